"""Checks tools/packaging/ without installing anything:

- every systemd unit passes `systemd-analyze verify` (with ExecStart pointed at the built
  binary), and every flag its ExecStart passes is one the binary's --help lists;
- the Dockerfile's runtime stage names every Debian package whose shared library the built
  binaries link (libc6 and the like too: installing what the base image has costs nothing and
  keeps the list checkable), and its ENTRYPOINT's flags exist.
There is no Dockerfile linter in Debian 12 (hadolint is not packaged) and no Docker daemon here,
so the image itself is not built.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""))
HERE = os.path.join(ROOT, "tools", "packaging")
BINARIES = {
    "tributary": "tools/tributary/tributary",
    "tribctl": "tools/tribctl/tribctl",
    "shard_store_server": "shard_store/shard_store_server",
    "leasing_server": "leasing/leasing_server",
    "stream_tracker_server": "stream_tracker/stream_tracker_server",
    "poller_server": "poller/poller_server",
}


def binary(name):
    return os.path.join(ROOT, BINARIES[name])


def help_flags(name):
    out = subprocess.run([binary(name), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(re.findall(r"^  --([a-z_]+)=", out.stdout, re.M))


def flags_of(command_line):
    return [m for m in re.findall(r"--([a-z_]+)=", command_line)]


class SystemdUnitsTest(unittest.TestCase):
    def test_units_verify_and_their_flags_exist(self):
        units = sorted(glob.glob(os.path.join(HERE, "systemd", "*.service")))
        self.assertEqual(len(units), 5)
        tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for unit in units:
            with self.subTest(unit=os.path.basename(unit)):
                with open(unit) as f:
                    text = f.read()
                exec_start = re.search(r"^ExecStart=(\S+)(.*)$", text, re.M)
                self.assertIsNotNone(exec_start)
                name = os.path.basename(exec_start.group(1))
                self.assertEqual(exec_start.group(1), "/usr/local/bin/" + name)
                known = help_flags(name)
                for flag in flags_of(exec_start.group(2)):
                    self.assertIn(flag, known, "%s has no --%s" % (name, flag))
                # systemd-analyze checks that ExecStart is executable: point it at the build.
                path = os.path.join(tmp, os.path.basename(unit))
                with open(path, "w") as f:
                    f.write(text.replace(exec_start.group(1), binary(name), 1))
                result = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                                        capture_output=True, text=True, timeout=120)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertEqual(result.stdout + result.stderr, "")


class DockerfileTest(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(HERE, "Dockerfile")) as f:
            self.text = f.read()

    def runtime_packages(self):
        runtime = self.text[self.text.rindex("\nFROM "):]
        install = re.search(r"apt-get install[^\n]*\\\n((?:\s+[a-z0-9.+-]+ \\\n)+)", runtime)
        self.assertIsNotNone(install, runtime)
        return set(install.group(1).split()) - {"\\"}

    def needed_packages(self, path):
        """The packages of the shared libraries `path` links. One dpkg call for all (each call
        reads the whole package database)."""
        out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
        libs = re.findall(r"=> (/\S+)", out)
        candidates = {}  # a path dpkg may know the library by -> the library
        for lib in libs:
            for c in {lib, os.path.realpath(lib)}:
                candidates[c] = lib
                if c.startswith("/usr/"):
                    candidates[c[len("/usr"):]] = lib
                else:
                    candidates["/usr" + c] = lib
        result = subprocess.run(["dpkg", "-S"] + sorted(candidates), capture_output=True,
                                text=True)
        owner = {}
        for line in result.stdout.splitlines():
            package, found = line.split(": ", 1)
            owner[candidates[found]] = package.split(":")[0]
        self.assertEqual(sorted(set(libs) - set(owner)), [], "libraries no package owns")
        return set(owner.values())

    def test_runtime_stage_installs_every_linked_library(self):
        listed = self.runtime_packages()
        for name in ("tributary", "tribctl"):
            with self.subTest(binary=name):
                missing = self.needed_packages(binary(name)) - listed
                self.assertEqual(sorted(missing), [], "runtime stage lacks these packages")

    def test_entrypoint_flags_exist(self):
        entrypoint = re.search(r"^ENTRYPOINT \[(.*)\]$", self.text, re.M).group(1)
        self.assertIn('"/usr/local/bin/tributary", "serve"', entrypoint)
        known = help_flags("tributary")
        for flag in flags_of(entrypoint):
            self.assertIn(flag, known)

    def test_both_stages_are_debian_12(self):
        self.assertEqual(re.findall(r"^FROM (\S+)", self.text, re.M), ["debian:12", "debian:12"])


if __name__ == "__main__":
    unittest.main()
