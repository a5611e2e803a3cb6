"""The `narvaro` command: one entry point for serving, the worker, the demo and management."""

from __future__ import annotations

import os
import sys

from narvaro import __version__

USAGE = """usage: narvaro VERB [ARGS...]

verbs:
  serve         run the web server (gunicorn) on NARVARO_BIND or --bind
  worker        run background tasks and the scheduler
  demo          set up the demo organisation and run server and worker (--load-only: just load)
  createadmin   create an organisation administrator
  import        import an export into the archive (x, mastodon, bluesky, facebook, instagram,
                or narvaro-bagit: restore a package made by `narvaro export bagit`)
  channels      connect accounts to Mastodon or Bluesky and harvest them (connect, harvest, status)
  verify        check the archive's digests and hash chains (--json)
  records       search the archive (`narvaro records search QUERY`)
  export        write an archival package (`narvaro export bagit|eark --out PATH`)
  retention     apply a retention rule (`narvaro retention run --rule ID [--commit] [--json]`)
  registry      export the registry for case management (`narvaro registry export --out PATH`)
  disclosure    requests for public records (`narvaro disclosure list|show ID|render ID --out PATH`)
  manage ...    any Django management command, e.g. `narvaro manage migrate`
  version       print the version

`narvaro VERB --help` explains each verb. Settings come from the environment (.env.example).
"""

# Verbs that map straight onto a management command of the same name.
COMMAND_VERBS = {
    "serve",
    "worker",
    "demo",
    "createadmin",
    "verify",
    "import",
    "records",
    "export",
    "channels",
    "retention",
    "registry",
    "disclosure",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return 0 if args else 2
    verb, rest = args[0], args[1:]
    if verb in {"version", "--version"}:
        sys.stdout.write(f"narvaro {__version__}\n")
        return 0
    if verb == "manage":
        if not rest:
            sys.stderr.write(
                "narvaro manage: name a management command, e.g. `narvaro manage migrate`\n"
            )
            return 2
        command = rest
    elif verb == "import" and rest[:1] == ["narvaro-bagit"]:
        # A Narvaro package is restored, not imported from a platform (packages/restore.py).
        command = ["import_package", *rest[1:]]
    elif verb in COMMAND_VERBS:
        command = [verb, *rest]
    else:
        sys.stderr.write(f"narvaro: unknown verb {verb!r}; run `narvaro --help` for the list\n")
        return 2
    return _run_django(command)


def _run_django(command: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "narvaro.config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["narvaro", *command])
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"narvaro: configuration error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
