#!/usr/bin/python3
# A guest joins a meeting with webbridge3's web app in headless Chromium (Debian's chromium,
# chromium-driver and python3-selenium), trusting only the CA it is given, through an NSS
# database in a temporary HOME (no --ignore-certificate-errors). It fills the join page,
# clicks Join, waits for the in-call view (or for an expected error), optionally mutes,
# stays, clicks Leave and waits for the join page's "left" state.
#
# Prints ONE JSON line on stdout:
#   {"ok": ..., "state": ..., "participant": ..., "call": ..., "conference": ..., "roster": [...],
#    "candidatesSent": N, "relayCandidatesSent": N, "offerSent": ..., "error": ...,
#    "console": [browser console errors], ...}
# and exits 0 when the expected outcome happened, 1 (with a one-line reason on stderr) if not.
# chromedriver is reached on loopback only; every wait is bounded by --timeout, and so is every
# WebDriver call (a client timeout: a wedged browser cannot hang us). The cleanup is bounded
# too and cannot be interrupted: it ends chromedriver, Chromium and their children by PID
# (only those it started) whatever quitting the session did.
#
# usage: browser_join.py --url https://198.18.20.1:445/ --ca lab-ca.pem --meeting 9999
#        [--passcode X] [--name Thomas] [--stay 3] [--mute] [--expect-error TEXT]
#        [--no-leave] [--timeout 60] [--screenshot file.png]
import argparse, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
DEBIAN_PYTHON = '/usr/bin/python3'

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.remote.remote_connection import RemoteConnection
    import urllib3
except ImportError:
    # Debian's python3-selenium lives in the system Python; another python3 (pyenv, venv)
    # earlier in PATH does not see it
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and \
            os.path.exists(DEBIAN_PYTHON) and not os.environ.get('BROWSER_JOIN_REEXEC'):
        os.environ['BROWSER_JOIN_REEXEC'] = '1'
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    raise

CHROMIUM_FLAGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
]

# What the page exposes (webapp/app.js): body[data-state] and window.wb3
JS_STATE = 'return document.body ? document.body.dataset.state || null : null'
JS_SNAPSHOT = r'''
const w = window.wb3 || {};
const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; };
return {
  state: document.body.dataset.state || null,
  wb3: JSON.parse(JSON.stringify(w)),
  roster: Array.from(document.querySelectorAll('#roster li')).map((li) => ({
    id: li.dataset.id, name: li.dataset.name || null,
    audioMuted: li.dataset.audioMuted === 'true', videoMuted: li.dataset.videoMuted === 'true',
    text: li.textContent })),
  errorText: text('error'), statusText: text('status'), mediaText: text('media'),
  mediaNote: text('media-note'),
  muteLabels: [text('mute-audio'), text('mute-video')],
};
'''


class Failed(Exception):
    pass


class Abort(BaseException):
    """Not an Exception: the helpers' `except Exception` (a picture, the console) cannot
    swallow it, so a deadline or a SIGTERM always reaches main() and its cleanup."""


class Deadline(Abort):
    pass


class Terminated(Abort):
    pass


# every WebDriver call of the cleanup gives up after this long (a wedged Chromium)
CLEANUP_CALL_TIMEOUT = 10


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--url', required=True, help='the join page, e.g. https://198.18.20.1:445/')
    p.add_argument('--ca', required=True, help='PEM file of the CA the browser is to trust')
    p.add_argument('--meeting', required=True, help='meeting ID (call ID or URI)')
    p.add_argument('--passcode', default='')
    p.add_argument('--name', default='Thomas')
    p.add_argument('--stay', type=float, default=3.0, help='seconds in the call before leaving')
    p.add_argument('--mute', action='store_true', help='mute audio and video once in the call')
    p.add_argument('--expect-error', metavar='TEXT',
                   help='expect the join to fail with an error whose code or message contains TEXT')
    p.add_argument('--no-leave', action='store_true',
                   help='do not click Leave: close the browser after --stay')
    p.add_argument('--timeout', type=float, default=60.0, help='bound on the whole run, seconds')
    p.add_argument('--screenshot', help='save a PNG of the page (in the call, or at the error)')
    return p.parse_args()


def check_loopback():
    """chromedriver is driven over 127.0.0.1: say so plainly if loopback is down (netns)."""
    try:
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            s.listen(1)
            with socket.create_connection(s.getsockname(), timeout=2):
                pass
    except OSError as e:
        raise Failed(f'loopback does not work here ({e}): chromedriver needs it (ip link set lo up)')


def make_nssdb(home, ca):
    nssdb = os.path.join(home, '.pki', 'nssdb')
    os.makedirs(nssdb, mode=0o700)
    for cmd in (['certutil', '-d', 'sql:' + nssdb, '-N', '--empty-password'],
                ['certutil', '-d', 'sql:' + nssdb, '-A', '-t', 'C,,', '-n', 'edge-lab-ca',
                 '-i', ca]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise Failed(f'{" ".join(cmd[:3])}... failed: {(r.stderr or r.stdout).strip()}')


def descendants(*roots):
    """pids of every process below the roots (from /proc)"""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], list(roots)
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def pids_using(path):
    """pids whose command line mentions path (our unique temporary directory)"""
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f'/proc/{d}/cmdline', 'rb') as f:
                if path.encode() in f.read():
                    out.append(int(d))
        except OSError:
            continue
    return out


def proc_stat(pid):
    """(state, start time) of pid from /proc, None if it is gone"""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def running(pid, start=None):
    """pid exists, is not a zombie, and (if given) is the process that started at start"""
    st = proc_stat(pid)
    return st is not None and st[0] != 'Z' and (start is None or st[1] == start)


def kill_pids(procs):
    """SIGTERM, then SIGKILL after 2 s, the processes of procs ({pid: start time}); a pid
    that now names another process (its start time differs) is left alone. About 4 s at most."""
    procs = {p: t for p, t in procs.items() if p != os.getpid()}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = {}
        for p, t in procs.items():
            if not running(p, t):
                continue
            try:
                os.kill(p, sig)
                alive[p] = t
            except (ProcessLookupError, PermissionError):
                pass
        if not alive:
            return
        end = time.monotonic() + 2
        while time.monotonic() < end:
            alive = {p: t for p, t in alive.items() if running(p, t)}
            if not alive:
                return
            time.sleep(0.1)
        procs = alive


def empty_result():
    return {'ok': False, 'state': None, 'participant': None, 'call': None, 'conference': None,
            'roster': [], 'candidatesSent': 0, 'relayCandidatesSent': 0, 'offerSent': False,
            'error': None, 'console': []}


class Run:
    def __init__(self, args):
        self.a = args
        self.deadline = time.monotonic() + args.timeout
        self.tmp = tempfile.mkdtemp(prefix='browser-join-')
        self.driver = None
        self.service = None
        self.procs = {}         # what we started (chromedriver, chromium, children): pid: start
        self.result = empty_result()
        self.shot_taken = False
        self.wedged = False     # a WebDriver call of the cleanup timed out: no more of them

    def collect(self):
        """remembers chromedriver, what it started, and whatever names our temporary
        directory (Chromium's processes, orphaned ones too), with their start times"""
        # only roots still the process we saw: a pid used again names another's children
        roots = [p for p, t in self.procs.items() if running(p, t)]
        proc = getattr(self.service, 'process', None) if self.service else None
        if proc is not None:
            roots.append(proc.pid)      # our child, unreaped: its pid is not used again
        pids = roots + descendants(*roots) + pids_using(self.tmp)
        for p in pids:
            st = proc_stat(p)
            if st and p not in self.procs:
                self.procs[p] = st[1]

    def left(self):
        return self.deadline - time.monotonic()

    def wait(self, what, cond, limit=None, poll=0.1):
        """polls cond() until it returns something true, at most limit seconds (and never past
        the deadline); returns its value or raises Deadline"""
        end = time.monotonic() + min(limit if limit is not None else 1e9, max(self.left(), 0))
        while True:
            v = cond()
            if v:
                return v
            if time.monotonic() >= end:
                raise Deadline(f'timed out waiting for {what}')
            time.sleep(poll)

    def state(self):
        return self.driver.execute_script(JS_STATE)

    def snapshot(self):
        snap = self.driver.execute_script(JS_SNAPSHOT)
        w = snap.get('wb3') or {}
        r = self.result
        r['state'] = snap.get('state')
        for k in ('participant', 'call', 'conference', 'candidatesSent', 'relayCandidatesSent',
                  'offerSent'):
            if k in w:
                r[k] = w[k]
        for k in ('endOfCandidatesSent', 'localMedia', 'media', 'audioMuted', 'videoMuted',
                  'lastError'):
            if k in w:
                r[k] = w[k]
        if r['state'] == 'in-call':
            r['roster'] = snap['roster']
        r['mediaText'] = snap.get('mediaText') or None
        r['statusText'] = snap.get('statusText') or None
        return snap

    def webdriver_failed(self, what, e):
        """a WebDriver call of a helper failed: say so; one that timed out (no answer from
        chromedriver) means no more are tried. A Deadline/Terminated is not caught here."""
        if not isinstance(e, WebDriverException):
            self.wedged = True
        print(f'browser_join: {what}: {type(e).__name__}: {str(e).strip()[:200]}',
              file=sys.stderr)

    def screenshot(self):
        if self.a.screenshot and self.driver and not self.shot_taken and not self.wedged:
            try:
                self.driver.save_screenshot(self.a.screenshot)
                self.shot_taken = True
            except Exception as e:  # the run's outcome does not depend on a picture
                self.webdriver_failed('no screenshot', e)

    def bound_client(self, seconds):
        """every later WebDriver request gives up after seconds, without retries. Selenium
        4.8's RemoteConnection.set_timeout is a class setting read when a connection pool is
        made, and a Service's driver made its keep-alive pool already: a new one replaces it."""
        RemoteConnection.set_timeout(seconds)
        ce = self.driver.command_executor
        old = getattr(ce, '_conn', None)
        ce._conn = urllib3.PoolManager(timeout=urllib3.Timeout(connect=min(5, seconds),
                                                               read=seconds), retries=False)
        if old is not None:
            try:
                old.clear()
            except Exception:
                pass

    def start_browser(self):
        home = os.path.join(self.tmp, 'home')
        profile = os.path.join(self.tmp, 'profile')
        os.makedirs(home, mode=0o700)
        os.makedirs(profile, mode=0o700)
        make_nssdb(home, self.a.ca)
        env = dict(os.environ)
        env['HOME'] = home
        env.pop('XDG_CONFIG_HOME', None)
        env.pop('XDG_CACHE_HOME', None)
        # keep the driver on loopback whatever proxy the caller's environment names
        for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy',
                  'ALL_PROXY'):
            env.pop(k, None)
        env['NO_PROXY'] = env['no_proxy'] = 'localhost,127.0.0.1'
        # Chromium's scoped directories go in ours, so a killed browser leaves none in /tmp
        env['TMPDIR'] = os.path.join(self.tmp, 'tmp')
        os.makedirs(env['TMPDIR'], mode=0o700)
        os.environ.pop('http_proxy', None)
        os.environ.pop('HTTP_PROXY', None)
        os.environ['NO_PROXY'] = os.environ['no_proxy'] = 'localhost,127.0.0.1'

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for f in CHROMIUM_FLAGS:
            opts.add_argument(f)
        opts.add_argument('--user-data-dir=' + profile)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.service = Service(CHROMEDRIVER, env=env,
                               service_args=['--log-level=WARNING',
                                             '--log-path=' + os.path.join(self.tmp, 'chromedriver.log')])
        budget = max(5, int(self.left()))
        # the driver's requests wait at most a little longer than its own page and script
        # timeouts (set before the driver exists: its connection pool reads it when made)
        RemoteConnection.set_timeout(budget + 10)
        # webdriver.Chrome starts the service itself (starting it here too made a second
        # chromedriver); its pid and Chromium's are remembered as soon as they exist
        try:
            self.driver = webdriver.Chrome(service=self.service, options=opts)
        finally:
            self.collect()
        self.driver.set_page_load_timeout(budget)
        self.driver.set_script_timeout(budget)
        self.collect()

    def console_errors(self):
        if self.wedged:
            return
        try:
            logs = self.driver.get_log('browser')
        except Exception as e:
            self.webdriver_failed('no console log', e)
            return
        for e in logs:
            if e.get('level') == 'SEVERE':
                self.result['console'].append(e.get('message'))

    def click(self, el_id):
        # the element's own click(): a coordinate click can land beside it while the in-call
        # view is still laying out (the media note appearing moves the buttons)
        el = self.driver.find_element(By.ID, el_id)
        self.driver.execute_script('arguments[0].click();', el)

    def run(self):
        a, r = self.a, self.result
        self.start_browser()
        try:
            self.driver.get(a.url)
        except WebDriverException as e:
            raise Failed(f'could not load {a.url}: {e.msg or e}'.splitlines()[0])
        try:
            self.wait('the join page', lambda: self.state() == 'join', 10)
        except Deadline:
            title = self.driver.title
            raise Failed(f'{a.url} did not show the join page (title {title!r}; '
                         'a certificate the browser does not trust shows an interstitial)')

        for field, value in (('meetingId', a.meeting), ('passcode', a.passcode), ('name', a.name)):
            box = self.driver.find_element(By.ID, field)
            box.clear()
            if value:
                box.send_keys(value)
        self.click('join-button')

        # the join's own timeouts are 15 s (HTTP) and 15 s (WebSocket until authenticated)
        try:
            st = self.wait('the join to end', lambda: (self.state() or 'join') not in
                           ('join', 'joining') and self.state(), 40)
        except Deadline:
            self.snapshot()
            raise Failed(f'the join did not finish (state {r["state"]})')
        snap = self.snapshot()
        err = (snap['wb3'] or {}).get('lastError') or snap.get('errorText') or ''

        if a.expect_error is not None:
            r['error'] = err or None
            self.screenshot()
            if st == 'in-call':
                raise Failed(f'expected an error containing {a.expect_error!r} but joined the call')
            if a.expect_error.lower() not in err.lower():
                raise Failed(f'expected an error containing {a.expect_error!r}, got state {st}: {err!r}')
            r['ok'] = True
            return
        if st != 'in-call':
            r['error'] = err or None
            self.screenshot()
            raise Failed(f'the join failed (state {st}): {err}')

        # in the call: the roster normally follows "authenticated" at once
        try:
            self.wait('the roster', lambda: self.driver.execute_script(
                "return document.querySelectorAll('#roster li').length"), min(5, a.stay + 2))
        except Deadline:
            pass
        if a.mute:
            self.click('mute-audio')
            self.click('mute-video')
            labels = self.driver.execute_script(
                "return [document.getElementById('mute-audio').textContent,"
                " document.getElementById('mute-video').textContent]")
            r['muteLabels'] = labels

        # stay, watching that the call goes on
        end = time.monotonic() + a.stay
        while time.monotonic() < end:
            if self.left() <= 0:
                raise Deadline('the run timed out during the stay')
            st = self.state()
            if st != 'in-call':
                snap = self.snapshot()
                r['error'] = (snap['wb3'] or {}).get('lastError') or snap.get('statusText') or None
                self.screenshot()
                raise Failed(f'the call ended during the stay (state {st}): '
                             f'{snap.get("statusText") or snap.get("errorText")}')
            time.sleep(min(0.25, max(0.0, end - time.monotonic())))
        snap = self.snapshot()
        r['roster'] = snap['roster']
        self.screenshot()

        if a.no_leave:
            r['ok'] = True
            return
        self.click('leave')
        # the page waits at most 3 s for "left"
        try:
            st = self.wait('the left state', lambda: self.state() not in ('in-call',) and
                           self.state(), 8)
        except Deadline:
            self.snapshot()
            raise Failed('Leave did not take the page back to the join page')
        snap = self.snapshot()
        if st != 'left':
            r['error'] = (snap['wb3'] or {}).get('lastError') or None
            raise Failed(f'after Leave the state is {st}, not left')
        r['ok'] = True

    def cleanup(self, failed=False):
        """Bounded, and called with SIGTERM and SIGALRM ignored: a picture if the run failed,
        the console, the session closed (each WebDriver call at most CLEANUP_CALL_TIMEOUT s,
        none after one timed out), then, whatever those did, everything we started ended by
        PID, chromedriver reaped, the temporary directory removed."""
        try:
            self.collect()
            if self.driver:
                self.bound_client(CLEANUP_CALL_TIMEOUT)
                if failed:
                    self.screenshot()
                self.console_errors()
                if not self.wedged:
                    try:
                        # the session only: webdriver.Chrome.quit() also runs Service.stop(),
                        # whose shutdown request has no timeout and which waits up to 90 s
                        webdriver.Remote.quit(self.driver)
                    except Exception as e:
                        self.webdriver_failed('quit', e)
        except Exception as e:
            print(f'browser_join: cleanup: {type(e).__name__}: {e}', file=sys.stderr)
        finally:
            try:
                self.collect()
            except Exception:
                pass
            kill_pids(self.procs)
            proc = getattr(self.service, 'process', None) if self.service else None
            if proc is not None:
                try:  # chromedriver is our child: reap it
                    proc.wait(timeout=2)
                except Exception:
                    pass
                # ended: Service.__del__ has nothing left to stop (its stop() is unbounded)
                self.service.process = None
            shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    a = parse_args()
    if not os.path.isfile(a.ca):
        print(json.dumps(dict(empty_result(), error=f'no CA file {a.ca}')))
        print(f'browser_join: no CA file {a.ca}', file=sys.stderr)
        return 1

    # a last resort if a WebDriver call itself hangs: the alarm interrupts it
    def on_alarm(signum, frame):
        raise Deadline(f'the run took longer than --timeout {a.timeout:g} s')
    signal.signal(signal.SIGALRM, on_alarm)
    def on_term(signum, frame):
        raise Terminated('terminated')
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(int(a.timeout) + 5)

    run = None
    reason = None
    try:
        try:
            check_loopback()
            run = Run(a)
            run.run()
        except (Failed, Abort) as e:
            reason = str(e)
        except WebDriverException as e:
            reason = f'webdriver: {(e.msg or str(e)).strip().splitlines()[0]}'
        except Exception as e:  # report, clean up, and fail: never a traceback without the JSON line
            reason = f'{type(e).__name__}: {e}'
    except Abort as e:  # a signal while the reason was being put into words
        reason = reason or str(e)
    finally:
        # nothing interrupts the cleanup (it is bounded by itself); a signal that lands
        # before the handlers are gone is caught and the ignoring done again
        while True:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGALRM, signal.SIG_IGN)
                signal.alarm(0)
                break
            except Abort as e:
                reason = reason or str(e)
        if run is not None:
            run.cleanup(failed=bool(reason))
    result = run.result if run else empty_result()
    if reason:
        result['ok'] = False
        if not result.get('error'):
            result['error'] = reason
    print(json.dumps(result), flush=True)
    if not result['ok']:
        print(f'browser_join: {reason or "failed"}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
