/* What the SFU reads of RTP on the fast path: header extensions (RFC 8285's one-byte form, the
 * only one browsers send with ids 1..14): the transport-wide sequence number (twcc.h) and the
 * audio level (RFC 6464), both in the clear header; and, once the payload is decrypted, a VP8
 * key frame's picture size. */
#ifndef EDGE_RTP_EXT_H
#define EDGE_RTP_EXT_H

#include <stdint.h>

#define RTP_AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

/* Where element @id's data starts in RTP packet @p (@len bytes) and its length in *@elen, or
 * -1 when the packet has no such element (no extension, another profile, malformed). */
static inline int rtp_ext_find(const uint8_t *p, unsigned int len, uint8_t id, unsigned int *elen)
{
	unsigned int off = 12 + 4u * (p[0] & 0x0f), end;

	if (!(p[0] & 0x10) || off + 4 > len || p[off] != 0xbe || p[off + 1] != 0xde)
		return -1;
	end = off + 4 + 4u * ((unsigned int)p[off + 2] << 8 | p[off + 3]);
	if (end > len)
		return -1;
	for (off += 4; off < end;) {
		uint8_t b = p[off], eid = b >> 4;
		unsigned int n = (b & 0x0f) + 1u;

		if (eid == 0) { /* padding */
			off++;
			continue;
		}
		if (eid == 15 || off + 1 + n > end)
			return -1;
		if (eid == id) {
			*elen = n;
			return (int)off + 1;
		}
		off += 1 + n;
	}
	return -1;
}

/* RFC 6464: the audio level of RTP packet @p under extension id @id, in -dBov (0 loudest,
 * 127 silence) with the voice activity flag in bit 7; -1 when it carries none. */
static inline int rtp_audio_level(const uint8_t *p, unsigned int len, uint8_t id)
{
	unsigned int n;
	int off = rtp_ext_find(p, len, id, &n);

	return off < 0 ? -1 : p[off];
}

/* Where RTP packet @p's payload starts (after CSRCs and extension), or -1 when the header
 * runs past @len bytes. */
static inline int rtp_payload_off(const uint8_t *p, unsigned int len)
{
	unsigned int off = 12 + 4u * (p[0] & 0x0f);

	if (p[0] & 0x10) {
		if (off + 4 > len)
			return -1;
		off += 4 + 4u * ((unsigned int)p[off + 2] << 8 | p[off + 3]);
	}
	return off <= len ? (int)off : -1;
}

/* The picture size of a VP8 key frame's first packet (RFC 7741 4.2, RFC 6386 9.1): 0 and
 * *@w, *@h set; -1 for any other packet (not a partition start, an inter frame, malformed). */
static inline int rtp_vp8_keyframe_size(const uint8_t *p, unsigned int len, uint16_t *w,
	uint16_t *h)
{
	int at = rtp_payload_off(p, len);
	unsigned int off, x;

	if (at < 0)
		return -1;
	off = (unsigned int)at;
	if (off + 1 > len || !(p[off] & 0x10) || (p[off] & 0x07)) /* S, partition 0 */
		return -1;
	if (p[off] & 0x80) { /* X: I L T K */
		if (off + 2 > len)
			return -1;
		x = p[off + 1];
		off += 2;
		if (x & 0x80) /* I: picture id, 15 bits when M */
			off += off < len && (p[off] & 0x80) ? 2 : 1;
		if (x & 0x40) /* L: TL0PICIDX */
			off++;
		if (x & 0x30) /* T or K: TID/Y/KEYIDX */
			off++;
	} else {
		off++;
	}
	/* the frame tag (3 bytes, P = 0 for a key frame), the start code, the sizes */
	if (off + 10 > len || (p[off] & 0x01) || p[off + 3] != 0x9d || p[off + 4] != 0x01 ||
		p[off + 5] != 0x2a)
		return -1;
	*w = (uint16_t)((p[off + 6] | p[off + 7] << 8) & 0x3fff);
	*h = (uint16_t)((p[off + 8] | p[off + 9] << 8) & 0x3fff);
	return 0;
}

#endif
