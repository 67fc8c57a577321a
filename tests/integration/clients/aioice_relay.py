# aioice (Debian's python3-aioice, an ICE agent nobody here wrote) gathers a relayed
# candidate through the appliance: prints "relay <host> <port>" and exits 0 if it got one.
# Usage: aioice_relay.py [server address] [--family 6]
#   server address: 198.18.20.1 by default; an IPv6 one works too
#   --family 6: ask for an IPv6 relayed address (RFC 8656 REQUESTED-ADDRESS-FAMILY). aioice's
#   codec lacks that attribute, so it is registered in aioice's attribute table and added to
#   its Allocate requests; the rest (transactions, the 401 round, the answer's
#   XOR-RELAYED-ADDRESS, the candidate) is aioice's own.
import argparse, asyncio, sys
import aioice
from aioice import stun, turn

REQUESTED_ADDRESS_FAMILY = 0x0017
FAMILY_IPV6 = 0x02


def ask_for_ipv6():
    entry = (REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY",
             stun.pack_unsigned, stun.unpack_unsigned)
    stun.ATTRIBUTES_BY_TYPE[entry[0]] = entry
    stun.ATTRIBUTES_BY_NAME[entry[1]] = entry
    plain = turn.TurnClientMixin.request_with_retry

    async def request_with_retry(self, request):
        if request.message_method == stun.Method.ALLOCATE:
            # the family in the first byte, three reserved bytes (RFC 8656 18.1)
            request.attributes["REQUESTED-ADDRESS-FAMILY"] = FAMILY_IPV6 << 24
        return await plain(self, request)

    turn.TurnClientMixin.request_with_retry = request_with_retry


async def main(server):
    conn = aioice.Connection(ice_controlling=True, components=1,
                             turn_server=(server, 3478), turn_username="edge",
                             turn_password="edge-lab-password", turn_transport="udp")
    await asyncio.wait_for(conn.gather_candidates(), 10)
    relayed = [c for c in conn.local_candidates if c.type == "relay"]
    for c in relayed:
        print("relay", c.host, c.port)
    await conn.close()
    return 0 if relayed else 1


ap = argparse.ArgumentParser()
ap.add_argument("server", nargs="?", default="198.18.20.1")
ap.add_argument("--family", choices=["4", "6"], default="4")
opt = ap.parse_args()
if opt.family == "6":
    ask_for_ipv6()
sys.exit(asyncio.run(main(opt.server)))
