# aioice (Debian's python3-aioice, a TURN client nobody here wrote) relays datagrams through
# the appliance to one peer (it binds a channel to exactly that address and port) and counts
# the echoes that come back through the relay. Prints "sent N echoed M"; exits 0 if M == N.
#   aioice_turn_echo.py SERVER USER PASSWORD PEER_IP PEER_PORT [COUNT]
import asyncio, sys
from aioice.turn import create_turn_endpoint


class Echoes(asyncio.DatagramProtocol):
    def __init__(self):
        self.got = set()

    def datagram_received(self, data, addr):
        self.got.add(data)


async def main(server, user, password, peer_ip, peer_port, count):
    try:
        transport, proto = await asyncio.wait_for(create_turn_endpoint(
            Echoes, (server, 3478), user, password), 10)
    except Exception as e:	# an Allocate refused: no relay at all
        print("sent 0 echoed 0 (no allocation: %s)" % e)
        return 1
    peer = (peer_ip, peer_port)
    for i in range(count):
        transport.sendto(b"echo %04d " % i + b"x" * 150, peer)
        await asyncio.sleep(0.02)
    for _ in range(50):	# up to 1 s more for the last echoes
        if len(proto.got) >= count:
            break
        await asyncio.sleep(0.02)
    print("sent %d echoed %d" % (count, len(proto.got)))
    transport.close()
    await asyncio.sleep(0.1)
    return 0 if len(proto.got) == count else 1


a = sys.argv
sys.exit(asyncio.run(main(a[1], a[2], a[3], a[4], int(a[5]), int(a[6]) if len(a) > 6 else 20)))
