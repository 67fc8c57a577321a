#!/usr/bin/env bash
# SRTP forwarding cost, libsrtp2 on OpenSSL (ours) vs Debian's on NSS, back to back on one core;
# writes bench/results/srtp.md (+ srtp.png with gnuplot).   bench/srtp.sh [ms-per-case]
# BUILD=<dir> picks the build directory (default build); CPU=<n> the core (default the last).
set -euo pipefail
cd "$(dirname "$0")/.."
ms=${1:-300}
b=${BUILD:-build}
cpu=${CPU:-$(($(nproc) - 1))}
out=bench/results/srtp.md
png=bench/results/srtp.png
tmp=$(mktemp -d /tmp/edge-srtp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ninja -C "$b" bench/bench_srtp bench/bench_srtp_nss >/dev/null
load=$(cut -d" " -f1-3 /proc/loadavg)
for lib in srtp srtp_nss; do
	echo "bench: bench_$lib ($ms ms per case, core $cpu)"
	taskset -c "$cpu" "$b/bench/bench_$lib" "$ms" | tee "$tmp/$lib.txt"
done

# Instructions per forwarded packet: one batch (1024 packets) per case, counted only inside the
# forwarding loop (the bench toggles collection), one dump per case.
for lib in srtp srtp_nss; do
	echo "bench: callgrind bench_$lib"
	valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$tmp/cg.$lib" \
		"$b/bench/bench_$lib" 0 >/dev/null 2>"$tmp/cg.$lib.log"
	for f in "$tmp"/cg."$lib".[0-9]*; do
		awk '/^desc: Trigger: Client Request:/ {c = $5} /^totals:/ {printf "%s %.0f\n", c, $2 / 1024}' "$f"
	done | sort > "$tmp/ir.$lib"
done

# One table: both libraries per case, timing from the timed run, Ir from callgrind.
table=$(awk -v irA="$tmp/ir.srtp" -v irB="$tmp/ir.srtp_nss" '
	BEGIN {
		while ((getline l < irA) > 0) { split(l, f, " "); ira[f[1]] = f[2] }
		while ((getline l < irB) > 0) { split(l, f, " "); irb[f[1]] = f[2] }
		printf "| profile | payload B | R | lib | ns/fwd pkt | ns/receiver | TSC cyc/fwd pkt | fwd pkt/s/core | out pkt/s/core | Ir/fwd pkt |\n"
		printf "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n"
	}
	FNR == 1 || FNR == 2 { next }
	{
		key = $2 "/" $3 "/R" $4
		ir = (FILENAME ~ /srtp_nss/) ? irb[key] : ira[key]
		row[key, FILENAME ~ /srtp_nss/] = sprintf("| %s | %d | %d | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s |",
			$2, $3, $4, $1, $5, $6, $7, $8, $9, ir)
		if (!(key in seen)) { seen[key] = 1; order[n++] = key }
	}
	END { for (i = 0; i < n; i++) { print row[order[i], 0]; print row[order[i], 1] } }
' "$tmp/srtp.txt" "$tmp/srtp_nss.txt")

# The headline: unprotect + one protect of a 160-byte audio packet.
head_ossl=$(awk '$2 == "AEAD_AES_128_GCM" && $3 == 160 && $4 == 1 {printf "%.0f", $5}' "$tmp/srtp.txt")
head_nss=$(awk '$2 == "AEAD_AES_128_GCM" && $3 == 160 && $4 == 1 {printf "%.0f", $5}' "$tmp/srtp_nss.txt")
cm_ossl=$(awk '$2 == "AES128_CM_SHA1_80" && $3 == 160 && $4 == 1 {printf "%.0f", $5}' "$tmp/srtp.txt")
cm_nss=$(awk '$2 == "AES128_CM_SHA1_80" && $3 == 160 && $4 == 1 {printf "%.0f", $5}' "$tmp/srtp_nss.txt")

plot=""
if command -v gnuplot >/dev/null; then
	# ns per receiver against R, one line per library x profile x size
	for lib in srtp srtp_nss; do
		awk 'NR > 2 {print $2 "_" $3, $4, $6}' "$tmp/$lib.txt" > "$tmp/$lib.dat"
	done
	gnuplot <<GP 2>/dev/null && plot="![ns per receiver](srtp.png)"
set terminal pngcairo size 900,520 noenhanced
set output "$png"
set title "SRTP forward: unprotect once + copy/protect per receiver (one core)"
set xlabel "receivers R"; set ylabel "ns per packet per receiver"; set logscale y
set key outside right; set xtics (1, 4, 9); set grid
f(lib, c) = sprintf("< grep '^%s ' $tmp/%s.dat", c, lib)
plot for [c in "AEAD_AES_128_GCM_160 AEAD_AES_128_GCM_1200 AES128_CM_SHA1_80_160 AES128_CM_SHA1_80_1200"] \
	f("srtp", c) using 2:3 with linespoints lw 2 title "openssl ".c, \
     for [c in "AEAD_AES_128_GCM_160 AEAD_AES_128_GCM_1200 AES128_CM_SHA1_80_160 AES128_CM_SHA1_80_1200"] \
	f("srtp_nss", c) using 2:3 with linespoints dt 2 title "nss ".c
GP
fi

model=$(lscpu | awk -F': *' '/^Model name/ {print $2; exit}')
cat > "$out" <<MD
# SRTP forwarding: libsrtp2 on OpenSSL vs Debian's libsrtp2 on NSS

- Machine: $model, $(nproc) cores (shared), $(uname -r); libsrtp2 $(sed -n 's/^Version: //p' /opt/edge-srtp/lib/pkgconfig/libsrtp2.pc 2>/dev/null || echo ?) from Debian's source package, built by \`scripts/setup.sh\` with \`-Dcrypto-library=openssl\` (OpenSSL $(pkg-config --modversion libcrypto)), static; Debian's \`libsrtp2-1\` $(dpkg-query -W -f='${Version}' libsrtp2-1) (NSS $(dpkg-query -W -f='${Version}' libnss3))
- Date: $(date -u +%Y-%m-%d); load average when the run started: $load
- Command: \`BUILD=$b bench/srtp.sh $ms\`: runs \`taskset -c $cpu $b/bench/bench_srtp $ms\`, then \`bench_srtp_nss\` (same source, linked with Debian's \`libsrtp2.so\`), then each under \`valgrind --tool=callgrind --collect-atstart=no\` with \`0\` (one batch of 1024 packets per case)

What is timed is the SFU's crypto per packet from one sender: \`srtp_unprotect\` once with the
sender's inbound session (replay window 1024, as libwebrtc), then for each of R receivers copy
the packet into an out buffer and \`srtp_protect\` it with that receiver's session. The sender's
own protect runs between batches, untimed. The first packet of every batch is unprotected by
each receiver's own inbound session and compared with the plaintext, so a broken setup fails
instead of printing numbers. Sequence numbers start at 0xfff0 so the ROC rolls over.
Payload sizes exclude the 12-byte RTP header. TSC cycles are rdtsc ticks (nominal clock).
Timings on this shared 2-core VM vary by tens of percent between runs; Ir (callgrind
instructions per forwarded packet, only inside the forwarding loop) is the stable figure.

**Headline, unprotect + one protect of 160 B:** GCM ${head_ossl} ns (OpenSSL) vs ${head_nss} ns
(NSS); AES-CM/HMAC-SHA1-80 ${cm_ossl} ns vs ${cm_nss} ns.

$table

$plot
MD
echo "bench: wrote $out${plot:+ and $png}"
