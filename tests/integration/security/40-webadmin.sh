# Sourced by test_security.sh (issue 12, finding 7 and two Low ones): the core's webadmin and
# REST API, and who may join a space. (a) a POST of 60 KiB with wrong credentials is answered
# 401 from its headers: with "Expect: 100-continue" the client gets the 401 at once and never
# sends the body (before, the core waited for the body and buffered it); a body pushed anyway
# is discarded unbuffered; 100 such POSTs at once do not stall a correct admin request. They
# come from an address of their own (198.18.10.41, removed after) so that the failed-login
# block they earn leaves 198.18.10.2, the other files' admin, alone. (b) a user with role api
# gets 403 on the pages (/general, /) and 200 on /api/v1/coSpaces. (c) a space with
# nonMemberAccess=false refuses a guest from the internet, by its callId and by its access
# method (403 nonMemberAccessDisabled, logged by the core); set true, the guest joins. Users,
# spaces and legs made here are deleted.
echo "== webadmin: credentials before the body, roles, nonMemberAccess"
WA_IP=198.18.10.41
WA_DEV=$(ip -n internal -o -4 addr show | awk '$4 ~ /^198\.18\.10\.2\// { print $2; exit }')
ip -n internal addr add "$WA_IP/24" dev "$WA_DEV" 2>/dev/null
# wa_post <out file> [curl args...]: POST the 60 KiB body to /api/v1/coSpaces from WA_IP with
# wrong credentials; the last line is "HTTP <code> <seconds> <body bytes sent>"
wa_post() {
	local f=$1; shift
	timeout 20 ip netns exec internal curl -sS --interface "$WA_IP" --cacert "$CERTS/lab-ca.pem" \
		-u admin:not-the-password -H 'Content-Type: application/x-www-form-urlencoded' \
		--data-binary "@$W/wa-body" -w '\nHTTP %{http_code} %{time_total} %{size_upload}\n' "$@" \
		"https://$CORE_IP:443/api/v1/coSpaces" >"$f" 2>&1
}
# wa_as <user:password> <method> <path>: the core's webadmin (a page, or /api/v1/...) as that user
wa_as() {
	timeout 15 ip netns exec internal curl -sS --cacert "$CERTS/lab-ca.pem" -u "$1" -X "$2" \
		-w '\nHTTP %{http_code}\n' "https://$CORE_IP:443$3" 2>&1
}
{ printf 'name='; head -c 61435 /dev/zero | tr '\0' a; } >"$W/wa-body"

# (a) one at a time: with "Expect: 100-continue" (curl waits up to 1 s for the go-ahead or an
# answer before it sends the body), and without (the body pushed at once)
wa_post "$W/wa-expect" -H 'Expect: 100-continue'
read -r _ st secs up < <(tail -1 "$W/wa-expect")
if [ "$st" = 401 ] && [ "$up" = 0 ] && awk -v s="$secs" 'BEGIN { exit !(s < 0.9) }'; then
	ok "webadmin: 60 KiB POST, wrong credentials -> 401 from its headers in ${secs}s, body never sent"
else
	bad "webadmin: 60 KiB POST with wrong credentials: code $st in ${secs}s, $up bytes uploaded (want 401, < 0.9 s, 0): $(head -c 300 "$W/wa-expect")"
fi
wa_post "$W/wa-noexpect" -H 'Expect:'
read -r _ st secs up < <(tail -1 "$W/wa-noexpect")
[ "$st" = 401 ] && ok "webadmin: the same body pushed without Expect -> 401 (${secs}s)" ||
	bad "webadmin: 60 KiB POST without Expect: $(tail -1 "$W/wa-noexpect")"
# 100 at once, their bodies pushed, while the admin reads the spaces (the first ten still
# cost a password hash each before the address is blocked: bounded, not stalled)
t0=$(date +%s.%N)
api GET /coSpaces >/dev/null
t1=$(date +%s.%N)
base=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
wa_pids=()
for i in $(seq 1 100); do
	wa_post "$W/wa-par.$i" -H 'Expect:' &
	wa_pids+=($!)
done
sleep 0.2
t0=$(date +%s.%N)
out=$(api GET /coSpaces)
t1=$(date +%s.%N)
wait "${wa_pids[@]}"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
n401=$(cat "$W"/wa-par.* | grep -c '^HTTP 401 ')
if [ "$(code <<<"$out")" = 200 ] && awk -v s="$secs" 'BEGIN { exit !(s < 5) }'; then
	ok "webadmin: an admin request answered in ${secs}s (${base}s alone) during 100 parallel 60 KiB wrong-credential POSTs"
else
	bad "webadmin: the admin request during the flood: $(tail -1 <<<"$out") in ${secs}s, ${base}s alone (want 200 within 5 s)"
fi
[ "$n401" = 100 ] && ok "webadmin: all 100 refused 401" ||
	bad "webadmin: $n401 of 100 parallel wrong-credential POSTs got 401: $(cat "$W"/wa-par.* | grep '^HTTP' | sort | uniq -c | head -5)"
wait_log "$CLOG" "$WA_IP: [0-9]* failed logins" 5 && ok "webadmin: the core logs the flooding address's failed logins" ||
	bad "webadmin: no failed-login line for $WA_IP in $CLOG"
out=$(api GET /coSpaces)
[ "$(code <<<"$out")" = 200 ] && ok "webadmin: the admin's address still gets in after the flood" ||
	bad "webadmin: admin refused after the flood: $(tail -2 <<<"$out")"
ip -n internal addr del "$WA_IP/24" dev "$WA_DEV" 2>/dev/null

# (b) the api role: the API, never the pages
WA_USER=wa_apiuser WA_PW=wa-api-pw-0123456789
if cctl user add "$WA_USER" api "$WA_PW" >"$W/wa-user" 2>&1; then
	out=$(wa_as "$WA_USER:$WA_PW" GET /general)
	[ "$(code <<<"$out")" = 403 ] && wait_log "$CLOG" "user $WA_USER may not GET /general" 5 &&
		ok "roles: a user with role api gets 403 on /general (logged)" || bad "roles: api user on /general: $(tail -2 <<<"$out")"
	out=$(wa_as "$WA_USER:$WA_PW" POST /general)
	[ "$(code <<<"$out")" = 403 ] && ok "roles: ... and on POST /general" || bad "roles: api user POST /general: $(tail -2 <<<"$out")"
	out=$(wa_as "$WA_USER:$WA_PW" GET /)
	[ "$(code <<<"$out")" = 403 ] && ok "roles: ... and on the status page" || bad "roles: api user on /: $(tail -2 <<<"$out")"
	out=$(wa_as "$WA_USER:$WA_PW" GET /api/v1/coSpaces)
	[ "$(code <<<"$out")" = 200 ] && grep -q '<coSpaces total=' <<<"$out" &&
		ok "roles: the api user reads /api/v1/coSpaces (200)" || bad "roles: api user on the API: $(tail -2 <<<"$out")"
	cctl user del "$WA_USER" >/dev/null 2>&1 || bad "roles: could not delete $WA_USER"
	out=$(wa_as "$WA_USER:$WA_PW" GET /api/v1/coSpaces)
	[ "$(code <<<"$out")" = 401 ] && ok "roles: the deleted api user is refused (401)" || bad "roles: deleted api user: $(tail -2 <<<"$out")"
else
	bad "roles: user add $WA_USER api: $(cat "$W/wa-user")"
fi

# (c) nonMemberAccess=false: members only, and a web app guest is none
out=$(api POST /coSpaces --data-urlencode name=members --data-urlencode callId=7070 --data-urlencode nonMemberAccess=false)
NM=$(location); NM=${NM##*/}
out2=$(api POST "/coSpaces/$NM/accessMethods" --data-urlencode callId=7071 --data-urlencode name=lobby)
if [ "$(code <<<"$out")" = 200 ] && [ -n "$NM" ] && [ "$(code <<<"$out2")" = 200 ]; then
	api GET "/coSpaces/$NM" | grep -q '<nonMemberAccess>false</nonMemberAccess>' ||
		bad "nonMemberAccess: the space does not show nonMemberAccess false"
	out=$(join 7070 "" Eve)
	[ "$(code <<<"$out")" = 403 ] && grep -q '"nonMemberAccessDisabled"' <<<"$out" &&
		wait_log "$CLOG" "space $NM (members) admits members only" 5 &&
		ok "nonMemberAccess false: a guest is refused, 403 nonMemberAccessDisabled, logged by the core" ||
		bad "nonMemberAccess false: guest join of 7070: $(tail -3 <<<"$out")"
	out=$(join 7071 "" Eve)
	[ "$(code <<<"$out")" = 403 ] && grep -q '"nonMemberAccessDisabled"' <<<"$out" &&
		ok "nonMemberAccess false: ... by its access method too" || bad "nonMemberAccess false: join by access method 7071: $(tail -3 <<<"$out")"
	out=$(api PUT "/coSpaces/$NM" --data-urlencode nonMemberAccess=true)
	[ "$(code <<<"$out")" = 200 ] || bad "nonMemberAccess: PUT true: $out"
	out=$(join 7070 "" Eve)
	if [ "$(code <<<"$out")" = 200 ] && grep -q '"jwt"' <<<"$out"; then
		ok "nonMemberAccess true: the guest joins"
		id=$(grep -o '"participant": *"[0-9a-f-]*"' <<<"$out" | head -1 | grep -o '[0-9a-f-]\{36\}')
		[ -n "$id" ] && { [ "$(api DELETE "/callLegs/$id" | code)" = 200 ] || bad "nonMemberAccess: could not delete Eve's leg $id"; }
	else
		bad "nonMemberAccess true: guest join of 7070: $(tail -3 <<<"$out")"
	fi
else
	bad "nonMemberAccess: set-up: $out / $out2"
fi
[ -n "$NM" ] && { [ "$(api DELETE "/coSpaces/$NM" | code)" = 200 ] || bad "nonMemberAccess: could not delete space $NM"; }
legit_guest "after the webadmin and nonMemberAccess attacks"
