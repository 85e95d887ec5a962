#!/usr/bin/env bash
# testsuite/integration/debugger_interrupt.sh — breaking into a running
# guest (issue "Debugger, part 1"), with Debian's cloud kernel sitting in
# its busybox shell, which waits for input forever:
#
#   gdb-interrupt  a small GDB remote client (python3) attaches to
#                  -gdb tcp::PORT once the guest is up, resumes it (`c`),
#                  sends the interrupt byte 0x03 and must get a stop reply
#                  (T/S with SIGINT or SIGTRAP); the stopped RIP (register
#                  read `p10`) must lie in the kernel image with CS 0x10;
#                  `monitor print rip` (qRcmd) must print exactly that
#                  RIP (hex and signed decimal), which must not move
#                  while stopped; `k` ends nest86.
#   ctrl-a-c       nest86 with -serial stdio on a pseudo-terminal: once the
#                  guest is up, Ctrl-A C must bring up the (nest86) prompt,
#                  and `quit` there must end nest86 with status 0.
#
# Every wait is bounded.  Without python3 or the kernel: testsuite/missing.sh.
set -u
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
[ -x "$NEST86" ] || { echo "FAIL debugger-interrupt/setup: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
command -v python3 >/dev/null 2>&1 || missing debugger-interrupt/setup "no python3"
if ! err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing debugger-interrupt/setup "cannot fetch Debian's kernel: ${err##*$'\n'}"
fi
kernel=$build/linux/vmlinuz-cloud
initrd=$build/linux/initrd.img
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/harness.py" <<'EOF'
# the two break-in cases; prints PASS/FAIL lines, exits 1 on a failure
import os, pty, random, select, signal, socket, subprocess, sys, time

nest86, kernel, initrd, tmp = sys.argv[1:5]
base = [nest86, "-m", "512M", "-kernel", kernel, "-initrd", initrd,
        "-append", "console=ttyS0 quiet nokaslr", "-no-reboot"]
failures = 0

def result(name, ok, why=""):
    global failures
    if ok:
        print("PASS debugger-interrupt/" + name)
    else:
        failures += 1
        print("FAIL debugger-interrupt/%s: %s" % (name, why))
    sys.stdout.flush()

def wait_for(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False

def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()

# ---- GDB remote protocol ----
def packet(data):
    return b"$" + data + b"#" + b"%02x" % (sum(data) & 0xff)

class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, data):
        self.s.sendall(packet(data))

    def reply(self, seconds=30):
        """the next packet's payload (acknowledging it), skipping acks"""
        end = time.time() + seconds
        while True:
            self.buf = self.buf.lstrip(b"+")
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i + 1) if i >= 0 else -1
            if i >= 0 and j >= 0 and len(self.buf) >= j + 3:
                data = self.buf[i + 1:j]
                self.buf = self.buf[j + 3:]
                self.s.sendall(b"+")
                return data
            left = end - time.time()
            if left <= 0:
                raise TimeoutError("no reply within %d s" % seconds)
            self.s.settimeout(left)
            more = self.s.recv(4096)
            if not more:
                raise EOFError("the stub closed the connection")
            self.buf += more

def gdb_case():
    for _ in range(8):
        port = random.randint(20000, 49999)
        serial = os.path.join(tmp, "gdb.console")
        err = open(os.path.join(tmp, "gdb.err"), "w+")
        proc = subprocess.Popen(base + ["-serial", "file:" + serial, "-gdb", "tcp::%d" % port],
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        listening = lambda: "listening on 127.0.0.1:%d" % port in open(err.name).read()
        if wait_for(lambda: listening() or proc.poll() is not None, 10) and listening():
            break
        stop(proc)
    else:
        result("gdb-interrupt", False, "nest86 -gdb did not listen")
        return
    try:
        up = lambda: os.path.exists(serial) and b"NEST86_LINUX_UP" in open(serial, "rb").read()
        if not wait_for(lambda: up() or proc.poll() is not None, 240) or not up():
            result("gdb-interrupt", False, "the guest did not come up")
            return
        c = Client(port)
        c.send(b"?")
        first = c.reply()                     # attaching stopped the guest
        c.send(b"c")
        time.sleep(1.0)
        running = proc.poll() is None
        c.s.sendall(b"\x03")
        stopreply = c.reply()
        result("gdb-interrupt", running and stopreply[:3] in (b"T02", b"S02", b"T05", b"S05"),
               "after ? %r: stop reply %r" % (first, stopreply))
        # the stopped CPU as the stub reports it: RIP (gdb register 16)
        # inside the kernel image, CS the kernel's code segment (0x10)
        def reg(n):
            c.send(b"p%x" % n)
            return int.from_bytes(bytes.fromhex(c.reply().decode()), "little")
        rip, cs = reg(0x10), reg(0x12)
        # nokaslr: the image starts at __START_KERNEL 0xffffffff81000000;
        # modules begin at 0xffffffffc0000000
        result("gdb-stopped-in-kernel",
               0xffffffff81000000 <= rip < 0xffffffffc0000000 and cs == 0x10,
               "rip %#x cs %#x" % (rip, cs))
        c.send(b"qRcmd," + b"print rip".hex().encode())
        text = b""
        while True:
            r = c.reply()
            if r.startswith(b"O") and r != b"OK":
                text += bytes.fromhex(r[1:].decode())
            else:
                break
        out = text.decode(errors="replace")
        # `print` shows hex then signed decimal: both must be that RIP
        words = out.split()
        shown = int(words[0], 16) if words and words[0].startswith("0x") else None
        signed = rip - (1 << 64) if rip >> 63 else rip
        result("gdb-monitor-print-rip",
               r == b"OK" and shown == rip and len(words) > 1 and words[1] == str(signed),
               "reply %r, output %r, the stub's rip %#x" % (r, out, rip))
        again = reg(0x10)
        result("gdb-stays-stopped", again == rip, "rip %#x then %#x" % (rip, again))
        c.send(b"k")
        result("gdb-kill", wait_for(lambda: proc.poll() is not None, 20),
               "nest86 still runs after k")
    except (OSError, TimeoutError, EOFError, ValueError) as e:
        result("gdb-interrupt", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop(proc)

# ---- Ctrl-A C on a pseudo-terminal ----
def pty_case():
    master, slave = pty.openpty()
    proc = subprocess.Popen(base + ["-serial", "stdio"], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True,
                            env=dict(os.environ, HOME=tmp, TERM="dumb"))
    os.close(slave)
    seen = b""

    def read_until(token, seconds):
        nonlocal seen
        end = time.time() + seconds
        while token not in seen:
            left = end - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([master], [], [], left)
            if r:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    return token in seen
                if not data:
                    return token in seen
                seen += data
        return True

    try:
        if not read_until(b"NEST86_LINUX_UP", 240) or not read_until(b"# ", 30):
            result("ctrl-a-c", False, "the guest did not come up: %r" % seen[-200:])
            return
        mark = len(seen)
        os.write(master, b"\x01c")
        ok = read_until(b"(nest86)", 20)
        result("ctrl-a-c", ok and b"(nest86)" in seen[mark:],
               "no debugger prompt: %r" % seen[mark:][-200:])
        os.write(master, b"quit\r")
        try:
            status = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            status = None
        result("ctrl-a-c-quit", status == 0, "nest86 status %r after quit" % status)
    finally:
        stop(proc)
        os.close(master)

gdb_case()
pty_case()
sys.exit(1 if failures else 0)
EOF
timeout 600 python3 "$tmp/harness.py" "$NEST86" "$kernel" "$initrd" "$tmp"
