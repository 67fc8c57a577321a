# aioice (Debian's python3-aioice, an ICE agent nobody here wrote) gathers a relayed
# candidate through the appliance: prints "relay <host> <port>" and exits 0 if it got one.
# Usage: aioice_relay.py [server address] (198.18.20.1 by default; an IPv6 one works too)
import asyncio, sys
import aioice

async def main():
    conn = aioice.Connection(ice_controlling=True, components=1,
                             turn_server=(sys.argv[1] if len(sys.argv) > 1 else "198.18.20.1", 3478), turn_username="edge",
                             turn_password="edge-lab-password", turn_transport="udp")
    await asyncio.wait_for(conn.gather_candidates(), 10)
    relayed = [c for c in conn.local_candidates if c.type == "relay"]
    for c in relayed:
        print("relay", c.host, c.port)
    await conn.close()
    return 0 if relayed else 1

sys.exit(asyncio.run(main()))
