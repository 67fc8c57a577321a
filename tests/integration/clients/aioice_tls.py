# aioice (Debian's python3-aioice, an ICE agent nobody here wrote) gathers a relayed candidate
# through the appliance over TURN over TLS, trusting only the CA file it is given (and checking
# the server's name: the certificate must name the address it is reached at). Prints
# "relay <host> <port>" and exits 0 if it got one; prints the error and exits 1 if not.
# Usage: aioice_tls.py <ca-file> [<server> [<port>]]      (defaults: 198.18.20.1 447)
import asyncio, ssl, sys
import aioice

async def main(cafile, host, port):
    # aioice hands turn_ssl to loop.create_connection(ssl=...): a context works where a bool
    # would mean "the system's CAs"
    ctx = ssl.create_default_context(cafile=cafile)
    conn = aioice.Connection(ice_controlling=True, components=1,
                             turn_server=(host, port), turn_username="edge",
                             turn_password="edge-lab-password", turn_ssl=ctx,
                             turn_transport="tcp")
    try:
        await asyncio.wait_for(conn.gather_candidates(), 10)
    except Exception as e:  # aioice logs and skips a TURN server it cannot reach
        print("error", type(e).__name__, e)
    relayed = [c for c in conn.local_candidates if c.type == "relay"]
    for c in relayed:
        print("relay", c.host, c.port)
    if not relayed:
        print("no relayed candidate")
    await conn.close()
    return 0 if relayed else 1

if __name__ == "__main__":
    a = sys.argv[1:]
    if not a:
        sys.exit("usage: aioice_tls.py <ca-file> [<server> [<port>]]")
    sys.exit(asyncio.run(main(a[0], a[1] if len(a) > 1 else "198.18.20.1",
                              int(a[2]) if len(a) > 2 else 447)))
