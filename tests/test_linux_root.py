"""--root DIR: a guest confined to DIR tries every way out (tests/guest/escape.c), with the kernel's
openat2(RESOLVE_IN_ROOT) and with dbt's userspace resolver; and the resolver itself, in process."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dbt.linux import fs  # noqa: E402
from tests.guest.harness import build, run_dbt  # noqa: E402

EXPECTED = """\
cwd at start: /
/proc/self/exe: /bin/escape
open /proc/self/exe: "?ELF???"
ls /: bin etc linkdeeper proc sub
open /etc/passwd: "inside"
open etc/passwd: "inside"
open ../../../etc/passwd: "inside"
open /../../../etc/passwd: "inside"
open T/secret: ENOENT
open ../secret: ENOENT
open /../secret: ENOENT
open /sub/to_root/etc/passwd: "inside"
open /sub/to_root/../secret: ENOENT
open /sub/up/etc/passwd: "inside"
open /sub/up/../secret: ENOENT
open sub/up/../../../etc/passwd: "inside"
open /sub/chain1/passwd: "inside"
open /sub/abs_secret: ENOENT
open /sub/rel_secret: ENOENT
open /sub/loop: ELOOP
open /linkdeeper/../../etc/passwd: "inside"
open /linkdeeper/../../../secret: ENOENT
readlink /sub/up: ../..
stat /sub/to_root is /: 1
lstat /sub/to_root is a symlink: 1
stat /.. is /: 1
stat /sub/up/.. is /: 1
lstat /sub/to_root/ (trailing slash follows) is /: 1
access secret: ENOENT
ls /sub/to_root: bin etc linkdeeper proc sub
ls /..: bin etc linkdeeper proc sub
ls /sub/up/..: bin etc linkdeeper proc sub
chdir /sub/deeper: 0
cwd: /sub/deeper
open ../../../../../etc/passwd: "inside"
open ../../../../../secret: ENOENT
chdir ../../..: 0
cwd: /
chdir ..: 0
cwd: /
chdir /sub/to_root: 0
cwd: /
chdir /linkdeeper: 0
cwd (physical): /sub/deeper
open ../../../../etc/passwd: "inside"
open ../../secret: ENOENT
open to_root/etc/passwd: "inside"
open ../secret: ENOENT
fstat of /sub/up is /: 1
readlinkat sub ../proc/self/exe: ENOENT
fchdir to /sub: 0
cwd: /sub
mkdir /../../made: 0
mkdir /sub/to_root/made2: 0
rename /made -> ../../moved: 0
link /etc/passwd -> /sub/up/../hard: 0
symlink /etc/shadow as /sub/newlink: 0
readlink /sub/newlink: /etc/shadow
open /sub/newlink: ENOENT
symlink to the secret: 0
open /tosecret: ENOENT
create through a dangling absolute symlink: ENOENT
create the victim path: ENOENT
unlink /sub/to_root/hard: 0
rmdir /..: -1 ENOTEMPTY
rename /sub/up/moved -> /sub/to_root/moved2: 0
ls /: bin etc linkdeeper made2 moved2 proc sub tosecret
child: exe=/bin/escape
child: cwd: /sub
open /etc/passwd: "inside"
exec'd child status: 3
execv a host path outside the root: -1 ENOENT
execv /../../../bin/sh: -1 ENOENT
"""


def make_tree(top: Path, guest: Path | None = None) -> Path:
    """top/secret outside the root, top/root with symlinks that point out of it in every way."""
    (top / "secret").write_text("SECRET\n")
    root = top / "root"
    for d in ("bin", "etc", "sub/deeper", "proc"):
        (root / d).mkdir(parents=True)
    if guest is not None:
        (root / "bin" / "escape").write_bytes(guest.read_bytes())
        (root / "bin" / "escape").chmod(0o755)
    (root / "etc" / "passwd").write_text("inside\n")
    links = {"sub/to_root": "/", "sub/up": "../..", "sub/chain1": "chain2", "sub/chain2": "/etc",
             "sub/abs_secret": str(top / "secret"), "sub/rel_secret": "../../secret", "sub/loop": "loop",
             "sub/dangling": str(top / "victim"), "linkdeeper": "sub/deeper"}
    for name, target in links.items():
        os.symlink(target, root / name)
    return root


def snapshot(top: Path) -> set:
    """Every path outside the root, with its contents for files."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(top):
        if Path(dirpath) == top / "root":
            dirnames.clear()
            continue
        for f in filenames:
            p = Path(dirpath) / f
            out.add((str(p), p.read_bytes()))
        out.update((str(Path(dirpath) / d), None) for d in dirnames)
    return out


@pytest.mark.parametrize("resolver", ["openat2", "userspace"])
def test_guest_cannot_escape(tmp_path, resolver):
    top = tmp_path.resolve()
    root = make_tree(top, build("escape"))
    before = snapshot(top)
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    if resolver == "userspace":
        env["DBT_NO_OPENAT2"] = "1"
    got = run_dbt(root / "bin" / "escape", [str(top / "secret"), str(top / "victim")],
                  options=("--tier", "interp", "--root", str(root)), env=env, cwd=root)
    assert got.stderr == b""
    assert got.stdout.decode().replace(str(top), "T") == EXPECTED
    assert got.status == 0
    assert snapshot(top) == before, "something outside the root changed"
    assert not (top / "victim").exists()
    assert (root / "moved2").is_dir() and (root / "made2").is_dir() and (root / "tosecret").is_symlink()


def test_cwd_outside_the_root_starts_at_its_top(tmp_path):
    make_tree(tmp_path.resolve(), build("escape"))
    # relative paths for the root and the program, from a cwd outside the root
    got = run_dbt("root/bin/escape", ["--child"], options=("--tier", "interp", "--root", "root"), cwd=tmp_path)
    assert got.stdout.decode() == 'child: exe=/bin/escape\nchild: cwd: /\nopen /etc/passwd: "inside"\n'
    assert got.status == 3


# -- the resolver in process -----------------------------------------------------------------------------
CASES = [
    (b"/etc/passwd", "inside"), (b"../../etc/passwd", "inside"), (b"/sub/to_root/etc/passwd", "inside"),
    (b"/sub/up/etc/passwd", "inside"), (b"/sub/chain1/passwd", "inside"), (b"/linkdeeper/../../etc/passwd", "inside"),
    (b"/sub/abs_secret", "ENOENT"), (b"/sub/rel_secret", "ENOENT"), (b"/../secret", "ENOENT"),
    (b"/sub/loop", "ELOOP"), (b"/etc/passwd/x", "ENOTDIR"), (b"/sub/to_root/../../secret", "ENOENT"),
]


def _read(filesystem, dirfd, path, flags=os.O_RDONLY):
    try:
        fd = filesystem.open(dirfd, path, flags)
    except OSError as e:
        return os.strerror(e.errno) and __import__("errno").errorcode[e.errno]
    with os.fdopen(fd, "rb") as f:
        return f.read().decode().strip()


@pytest.mark.parametrize("use_openat2", [True, False], ids=["openat2", "userspace"])
def test_resolver(tmp_path, monkeypatch, use_openat2):
    root = make_tree(tmp_path.resolve())
    monkeypatch.chdir(root)
    filesystem = fs.FileSystem(str(root))
    filesystem.use_openat2 = use_openat2
    for path, want in CASES:
        assert _read(filesystem, fs.AT_FDCWD, path) == want, path
    # relative to a directory fd inside the root: ".." goes up to the root and no further
    sub = os.open(root / "sub" / "deeper", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert _read(filesystem, sub, b"../../../../etc/passwd") == "inside"
        assert _read(filesystem, sub, b"../../../../secret") == "ENOENT"
    finally:
        os.close(sub)
    # O_CREAT through a dangling symlink to a host path creates nothing outside
    assert _read(filesystem, fs.AT_FDCWD, b"/sub/dangling", os.O_WRONLY | os.O_CREAT) == "ENOENT"
    assert not (tmp_path / "victim").exists()
    # O_NOFOLLOW on a final symlink, O_DIRECTORY on a file
    assert _read(filesystem, fs.AT_FDCWD, b"/sub/up", os.O_RDONLY | os.O_NOFOLLOW) == "ELOOP"
    assert _read(filesystem, fs.AT_FDCWD, b"/etc/passwd", os.O_RDONLY | os.O_DIRECTORY) == "ENOTDIR"
    # final-component calls get the parent inside the root and a single name
    with filesystem.parent(fs.AT_FDCWD, b"/sub/up/../made") as (dfd, name):
        assert name == b"made"
        os.mkdir(name, dir_fd=dfd)
    assert (root / "made").is_dir()
    assert filesystem.guest_of_host(os.fsencode(root / "sub")) == b"/sub"
    assert filesystem.guest_of_host(os.fsencode(tmp_path / "secret")) is None


def test_split_last():
    assert fs.split_last(b"/a/b") == (b"/a", b"b", False)
    assert fs.split_last(b"a/b/") == (b"a", b"b", True)
    assert fs.split_last(b"b") == (b".", b"b", False)
    assert fs.split_last(b"/b") == (b"/", b"b", False)
    assert fs.split_last(b"/") == (b"/", b".", True)
    assert fs.split_last(b"//x//") == (b"/", b"x", True)
