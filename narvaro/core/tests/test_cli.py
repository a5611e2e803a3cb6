"""The `narvaro` command: verbs, and a clear one-line error for every wrong call."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from django.test import SimpleTestCase


def run_narvaro(
    *args: str,
    home: str | None = None,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `narvaro` command as a user would, on its own data folder.

    It uses SQLite in that folder unless `database_url` names another database.
    """
    env = {**os.environ, "NARVARO_HOME": home or tempfile.mkdtemp(prefix="narvaro-cli-")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("NARVARO_DATABASE_URL", None)
    if database_url:
        env["NARVARO_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "narvaro", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


class CliTests(SimpleTestCase):
    def test_version_needs_no_settings(self) -> None:
        result = run_narvaro("version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^narvaro \d+\.\d+\.\d+\n$")

    def test_an_unknown_verb_exits_2_with_one_line(self) -> None:
        result = run_narvaro("frobnicate")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr, "narvaro: unknown verb 'frobnicate'; run `narvaro --help` for the list\n"
        )

    def test_a_wrong_option_exits_2_with_one_line_naming_it(self) -> None:
        result = run_narvaro("demo", "--bogus")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr,
            "narvaro demo: unrecognized arguments: --bogus (see `narvaro demo --help`)\n",
        )

    def test_a_wrong_value_exits_non_zero_with_one_line(self) -> None:
        result = run_narvaro("serve", "--workers", "0")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(
            result.stderr.strip().splitlines(), ["CommandError: --workers must be at least 1"]
        )

    def test_a_bad_database_url_is_a_configuration_error(self) -> None:
        env_home = tempfile.mkdtemp(prefix="narvaro-cli-")
        result = subprocess.run(
            [sys.executable, "-m", "narvaro", "manage", "check"],
            capture_output=True,
            text=True,
            env={**os.environ, "NARVARO_HOME": env_home, "NARVARO_DATABASE_URL": "mysql://db/x"},
            timeout=120,
            check=False,
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("NARVARO_DATABASE_URL must be a sqlite:// or postgres:// URL", result.stderr)

    def test_a_bad_setting_names_the_variable_in_one_line(self) -> None:
        cases = {
            "NARVARO_LOGIN_FAILURE_LIMIT": (
                "many",
                "NARVARO_LOGIN_FAILURE_LIMIT='many' is not a valid int",
            ),
            "NARVARO_TIME_ZONE": (
                "Mars/Olympus",
                "NARVARO_TIME_ZONE='Mars/Olympus' is not a known time zone",
            ),
            "NARVARO_LANGUAGE": ("fi", "NARVARO_LANGUAGE='fi': use 'sv' or 'en'"),
            "NARVARO_SECURE_COOKIES": (
                "flase",
                "NARVARO_SECURE_COOKIES='flase' is not a valid bool (use true or false)",
            ),
            "NARVARO_PROXY_COUNT": ("-1", "NARVARO_PROXY_COUNT must be 0 or more"),
            "NARVARO_BASE_URL": (
                "narvaro.example.se",
                "NARVARO_BASE_URL='narvaro.example.se' must be an http:// or https:// address "
                "with no path, e.g. https://narvaro.example.se",
            ),
        }
        for name, (value, message) in cases.items():
            with self.subTest(name=name):
                result = run_narvaro("manage", "check", extra_env={name: value})
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stderr, f"narvaro: configuration error: {message}\n")

    def test_a_secret_can_come_from_a_file(self) -> None:
        home = tempfile.mkdtemp(prefix="narvaro-cli-")
        key_file = os.path.join(home, "key")
        with open(key_file, "w") as handle:
            handle.write("from-a-file\n")
        show = "from django.conf import settings; print(settings.SECRET_KEY)"
        result = run_narvaro(
            "manage",
            "shell",
            "-c",
            show,
            home=home,
            extra_env={"NARVARO_SECRET_KEY_FILE": key_file},
        )
        self.assertEqual(result.stdout.strip().splitlines()[-1], "from-a-file")

    def test_help_lists_the_verbs(self) -> None:
        result = run_narvaro("--help")
        self.assertEqual(result.returncode, 0)
        for verb in ["serve", "worker", "demo", "createadmin", "manage"]:
            self.assertIn(verb, result.stdout)

    def test_serve_refuses_to_start_on_an_unmigrated_database(self) -> None:
        result = run_narvaro("serve", "--bind", "127.0.0.1:0")
        self.assertEqual(result.returncode, 1)
        self.assertIn("unapplied migrations", result.stderr)


class CreateAdminTests(SimpleTestCase):
    def test_createadmin_without_a_password_in_a_pipe_says_how_to_give_one(self) -> None:
        home = tempfile.mkdtemp(prefix="narvaro-cli-")
        self.assertEqual(run_narvaro("manage", "migrate", "-v0", home=home).returncode, 0)
        result = run_narvaro("createadmin", "root", "--email", "root@example.org", home=home)
        self.assertEqual(result.returncode, 1)
        self.assertIn("set NARVARO_ADMIN_PASSWORD", result.stderr)
