# Sourced by test_security.sh (issue 12, findings 3 and 4): passcode guessing and slot
# exhaustion. (a) 60 wrong-passcode joins for 4242 at once from one address: at most 10 reach
# the passcode check (the limit checks and counts in one step), the rest get 429, and a guest
# from another address still joins. (b) one address opening 40 joins of 9999 at once: at most
# 20 get a leg (guests in calls per address), the rest 429; then five more addresses fill
# 9999 to its 100 guests (409 participantLimitReached) while 4242 still takes a guest. (c) the
# webadmin: an address locked out for wrong passwords stays locked when another address, one
# that shared its slot in the old table, makes a request. The attackers use addresses of their
# own (198.18.20.3..9 public, 198.18.10.4 and .130 internal, removed after), so that the blocks
# they earn touch neither 198.18.20.2 nor 198.18.10.2, which the other files use; every leg
# made here is deleted through the API.
echo "== limits: passcode guessing and slot exhaustion"
LIM_T0=$(date +%s)
LIM_IPS=(198.18.20.3 198.18.20.4 198.18.20.5 198.18.20.6 198.18.20.7 198.18.20.8 198.18.20.9)
LIM_LEGS=()
lim_addrs() {
	local a
	for a in "${LIM_IPS[@]}"; do ip -n public addr "$1" "$a/24" dev pub0 2>/dev/null; done
}
# lim_join <source ip> <meetingId> <passcode> <name> <out file>: POST /api/join from that address
lim_join() {
	timeout 20 ip netns exec public curl -sS --interface "$1" --cacert "$CERTS/lab-ca.pem" \
		-H 'Content-Type: application/json' -w '\nHTTP %{http_code}\n' \
		-d "{\"meetingId\":\"$2\",\"passcode\":\"$3\",\"name\":\"$4\"}" \
		"https://$PUB_IP:445/api/join" >"$5" 2>&1
}
# lim_burst <prefix> <count> <source ip> <meetingId> <passcode|-> <name>: that many joins at once
# (passcode "-" is a different wrong one each); waits for them (bounded by curl's timeout)
lim_burst() {
	local i pids=() pass
	for i in $(seq 1 "$2"); do
		pass=$5; [ "$pass" = - ] && pass=$((3000 + i))
		lim_join "$3" "$4" "$pass" "$6" "$W/$1.$3.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
}
# lim_seq <prefix> <count> <source ip> <meetingId> <passcode> <name>: one after the other
lim_seq() {
	local i
	for i in $(seq 1 "$2"); do lim_join "$3" "$4" "$5" "$6" "$W/$1.$3.$i"; done
}
# lim_count <glob> <regex>: how many answer files match
lim_count() { grep -lE -- "$2" $1 2>/dev/null | wc -l; }
# the legs the 200 answers made, to delete at the end
lim_collect() {
	local f id
	for f in $1; do
		grep -q '^HTTP 200' "$f" || continue
		id=$(grep -o '"participant":"[0-9a-f-]*"' "$f" | head -1 | cut -d'"' -f4)
		[ -n "$id" ] && LIM_LEGS+=("$id")
	done
}
# lim_legit <after what>: legit_guest's check from 198.18.20.2, with its leg deleted at the end
# (a leg without its WebSocket lingers 60 s and counts against that address's 20)
lim_legit() {
	local out id
	out=$(join 9999 "" "Legit")
	if [ "$(code <<<"$out")" = 200 ] && grep -q '"jwt"' <<<"$out"; then
		ok "a legitimate guest still joins 9999 ($1)"
		id=$(grep -o '"participant":"[0-9a-f-]*"' <<<"$out" | cut -d'"' -f4)
		[ -n "$id" ] && LIM_LEGS+=("$id")
	else
		bad "a legitimate guest cannot join 9999 $1: $(tail -3 <<<"$out")"
	fi
}
lim_legs_total() { api GET "/callLegs?limit=0" | grep -o 'total="[0-9]*"' | grep -o '[0-9]*'; }

lim_addrs del
lim_addrs add
LIM_LEGS0=$(lim_legs_total)
ATK=${LIM_IPS[0]}
l0=$(wc -l < "$LOG")

# (a) 60 wrong passcodes at once from one address
lim_burst a 60 "$ATK" 4242 - Guess
checked=$(lim_count "$W/a.$ATK.*" '"error":"invalidPasscode"')
n429=$(lim_count "$W/a.$ATK.*" '^HTTP 429')
other=$((60 - checked - n429))
if [ "$checked" -ge 1 ] && [ "$checked" -le 10 ] && [ "$other" = 0 ]; then
	ok "60 simultaneous wrong passcodes from $ATK: $checked reached the passcode check, $n429 got 429"
else
	bad "60 simultaneous wrong passcodes: $checked checked (at most 10), $n429 429, $other other: $(cat "$W"/a.$ATK.* | grep -v '^HTTP' | sort | uniq -c | sort -rn | head -3)"
fi
lim_join "$ATK" 4242 2468 Right "$W/a.right"
grep -q '^HTTP 429' "$W/a.right" && ok "even the right passcode from $ATK is refused now (429)" ||
	bad "the guessing address joined with the right passcode: $(tail -2 "$W/a.right")"
lim_collect "$W/a.right"
if wait_log "$LOG" "$ATK: 10 failed joins in 60 s" 5 &&
	[ "$(tail -n +$((l0 + 1)) "$LOG" | grep -c "$ATK: 10 failed joins in 60 s")" = 1 ]; then
	ok "the web bridge logged the guessing once"
else
	bad "failed joins logged $(tail -n +$((l0 + 1)) "$LOG" | grep -c "$ATK: 10 failed joins") times (once wanted)"
fi
lim_legit "from another address during $ATK's block"
out=$(join 4242 2468 Legit)
if [ "$(code <<<"$out")" = 200 ]; then
	ok "a guest from 198.18.20.2 still joins 4242 with its passcode"
	id=$(grep -o '"participant":"[0-9a-f-]*"' <<<"$out" | cut -d'"' -f4); [ -n "$id" ] && LIM_LEGS+=("$id")
else
	bad "a legitimate guest cannot join 4242 during $ATK's block: $(tail -2 <<<"$out")"
fi

# (b) one address takes legs with joins that succeed: 40 at once
ATK=${LIM_IPS[1]}
c0=$(wc -l < "$CLOG")
lim_burst b 40 "$ATK" 9999 "" Flood
n200=$(lim_count "$W/b.$ATK.*" '^HTTP 200')
n429=$(lim_count "$W/b.$ATK.*" '^HTTP 429')
njoins=$(lim_count "$W/b.$ATK.*" '"error":"tooManyJoins"')
lim_collect "$W/b.$ATK.*"
if [ "$n200" -ge 1 ] && [ "$n200" -le 20 ] && [ $((n200 + n429)) = 40 ]; then
	ok "40 simultaneous joins from $ATK: $n200 got a leg, $n429 got 429 ($njoins of them for joins in progress)"
else
	bad "40 simultaneous joins from one address: $n200 legs (at most 20), $n429 429: $(cat "$W"/b.$ATK.* | grep -v '^HTTP' | cut -c1-80 | sort | uniq -c | sort -rn | head -3)"
fi
# a busy machine may have answered fewer of the burst (joins in progress are capped at 8):
# one at a time up to 20 legs, then the next is refused for the legs, not for the burst
legs=$n200
for i in $(seq 1 $((21 - n200))); do
	lim_join "$ATK" 9999 "" More "$W/b.more.$i"
	grep -q '^HTTP 200' "$W/b.more.$i" || { cp "$W/b.more.$i" "$W/b.more"; break; }
	legs=$((legs + 1))
done
grep -q '"error":"tooManyParticipants"' "$W/b.more" && grep -q '^HTTP 429' "$W/b.more" && [ "$legs" = 20 ] &&
	ok "$ATK's legs stop at 20: its next join gets 429 tooManyParticipants" ||
	bad "$ATK's next join at $legs legs: $(tail -2 "$W/b.more" 2>/dev/null | cut -c1-200)"
lim_collect "$W/b.more.*"
n=$(tail -n +$((c0 + 1)) "$CLOG" | grep -c "$ATK already has 20 guests")
[ "$n" = 1 ] && ok "the callbridge logged it once" || bad "the per-address refusal was logged $n times (once wanted)"
lim_legit "while $ATK holds its 20 legs"

# five more addresses, 20 joins each, the five side by side: space 9999 stops at 100 guests
pids=()
for a in "${LIM_IPS[@]:2:5}"; do lim_seq c 20 "$a" 9999 "" Fill & pids+=($!); done
wait "${pids[@]}"
lim_collect "$W/c.*"
n409=$(lim_count "$W/c.*" '"error":"participantLimitReached"')
call=$(api GET "/calls?limit=100" | grep -o '<call id="[0-9a-f-]*"><name>9999</name>' | cut -d'"' -f2)
in9999=$(api GET "/calls/$call" | grep -o '<numCallLegs>[0-9]*' | grep -o '[0-9]*$')
if [ "$n409" -ge 1 ] && [ "${in9999:-0}" = 100 ]; then
	ok "space 9999 stops at 100 guests ($n409 joins got 409 participantLimitReached)"
else
	bad "space cap: 9999 has ${in9999:-?} legs, $n409 409s: $(cat "$W"/c.* | grep -v '^HTTP' | cut -c1-80 | sort | uniq -c | sort -rn | head -3)"
fi
out=$(join 9999 "" Late)
grep -q '"error":"participantLimitReached"' <<<"$out" && ok "a guest for the full space gets 409 participantLimitReached" ||
	bad "a guest for the full space 9999: $(tail -2 <<<"$out" | cut -c1-200)"
out=$(join 4242 2468 Other)
if [ "$(code <<<"$out")" = 200 ]; then
	ok "while 9999 is full, a guest still joins 4242"
	id=$(grep -o '"participant":"[0-9a-f-]*"' <<<"$out" | cut -d'"' -f4); [ -n "$id" ] && LIM_LEGS+=("$id")
else
	bad "while 9999 is full, 4242 refuses a guest: $(tail -2 <<<"$out")"
fi

# (c) webadmin logins: 198.18.10.4 and 198.18.10.130 shared a slot of the old table, where one
# request from the second lifted the first's block
LIM_INT=(198.18.10.4 198.18.10.130)
for a in "${LIM_INT[@]}"; do ip -n internal addr del "$a/24" dev br0 2>/dev/null; ip -n internal addr add "$a/24" dev br0; done
# lim_login <source ip> <password>: GET /api/v1/coSpaces as admin from that address; the HTTP code
lim_login() {
	timeout 15 ip netns exec internal curl -sS --interface "$1" --cacert "$CERTS/lab-ca.pem" \
		-u "admin:$2" -o /dev/null -w '%{http_code}' "https://$CORE_IP:443/api/v1/coSpaces" 2>&1
}
c0=$(wc -l < "$CLOG")
codes=
for i in $(seq 1 11); do codes="$codes $(lim_login "${LIM_INT[0]}" "wrong$i")"; done
right=$(lim_login "${LIM_INT[0]}" "$ADMIN_PW")
other=$(lim_login "${LIM_INT[1]}" "wrong")
after=$(lim_login "${LIM_INT[0]}" "$ADMIN_PW")
if [ "$right" = 401 ] && [ "$after" = 401 ]; then
	ok "11 wrong passwords from ${LIM_INT[0]}: refused even with the right one, before and after a request from ${LIM_INT[1]} ($right, $after)"
else
	bad "webadmin block: the right password from ${LIM_INT[0]} got $right, after ${LIM_INT[1]}'s request $after (401 wanted):$codes"
fi
n=$(tail -n +$((c0 + 1)) "$CLOG" | grep -c "${LIM_INT[0]}: 10 failed logins in 60 s")
[ "$n" = 1 ] && ok "the webadmin logged it once" || bad "the failed logins were logged $n times (once wanted)"
[ "$(lim_login "${LIM_INT[1]}" "$ADMIN_PW")" = 200 ] && [ "$(api GET /coSpaces | code)" = 200 ] &&
	ok "the administrator from ${LIM_INT[1]} and from 198.18.10.2 still logs in" ||
	bad "a legitimate administrator is refused after another address's guessing"
for a in "${LIM_INT[@]}"; do ip -n internal addr del "$a/24" dev br0 2>/dev/null; done

# clean up: every leg made here, and the addresses
fails=0
for id in "${LIM_LEGS[@]}"; do
	[ "$(api DELETE "/callLegs/$id" | code)" = 200 ] || fails=$((fails + 1))
done
lim_addrs del
left=$(lim_legs_total)
# (the legs others left may have been let go meanwhile: not more than before)
if [ "$fails" = 0 ] && [ -n "$left" ] && [ "$left" -le "${LIM_LEGS0:-0}" ]; then
	ok "${#LIM_LEGS[@]} legs deleted through the API: $left left (were $LIM_LEGS0)"
else
	bad "clean-up: $fails deletes failed, $left legs left (were $LIM_LEGS0)"
fi
lim_legit "after the limits' clean-up"
[ "$(api DELETE "/callLegs/${LIM_LEGS[-1]}" | code)" = 200 ] || bad "could not delete the last guest's leg"
echo "   (limits: $(($(date +%s) - LIM_T0)) s)"
