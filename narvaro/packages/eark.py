"""E-ARK SIP packages (CSIP/SIP 2.1, the structure of Riksarkivet's FGS Paketstruktur 2.0, R29).

Layout of a package named OBJID:

    OBJID/METS.xml                         the package METS (CSIP + SIP profile)
    OBJID/metadata/preservation/premis.xml PREMIS: the representations, one event per chain
                                           entry (capture, edit, deletion, moderation,
                                           disposal, ...), the export's fixity check, agents
    OBJID/schemas/                         the JSON Schemas of the records
    OBJID/documentation/                   the fixity report (chain heads, verification)
    OBJID/representations/<name>/METS.xml  one METS per representation, listing its files
    OBJID/representations/<name>/data/...  records, payloads, media, renderings

The METS files are written with lxml; PREMIS is written incrementally (`etree.xmlfile`), so an
archive with millions of chain entries never sits in memory as one tree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from lxml import etree

from narvaro import __version__
from narvaro.packages.bag import BuiltPackage, Renderer
from narvaro.packages.records import FORMAT_NAME, FORMAT_VERSION, Scope, write_records

METS_NS = "http://www.loc.gov/METS/"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS_NS = "http://www.loc.gov/premis/v3"
NSMAP = {None: METS_NS, "csip": CSIP_NS, "sip": SIP_NS, "xlink": XLINK_NS, "xsi": XSI_NS}
SCHEMA_LOCATION = (
    "http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/mets.xsd "
    "http://www.w3.org/1999/xlink http://www.loc.gov/standards/mets/xlink.xsd "
    "https://DILCIS.eu/XML/METS/CSIPExtensionMETS "
    "https://earkcsip.dilcis.eu/schema/DILCISExtensionMETS.xsd "
    "https://DILCIS.eu/XML/METS/SIPExtensionMETS "
    "https://earksip.dilcis.eu/schema/DILCISExtensionSIPMETS.xsd"
)
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
OTHER_CONTENT_TYPE = f"{FORMAT_NAME} {FORMAT_VERSION}"
# Representation folder → (what it holds, the folder write_records fills).
REPRESENTATIONS = {
    "records": "records",
    "payloads": "payloads",
    "media": "media",
    "renderings": "renderings",
}
# Chain entry type → PREMIS eventType (R29: capture, fixity, edit, deletion, moderation,
# disposal); registration flags are recorded as such.
EVENT_TYPES = {
    "capture": "capture",
    "edit": "modification",
    "deleted": "deletion",
    "hidden": "moderation",
    "unhidden": "moderation",
    "removed": "moderation",
    "reported": "moderation",
    "blocked": "moderation",
    "media_withheld": "moderation",
    "case": "registration",
    "secret": "registration",
    "secret_lifted": "registration",
    "disposed": "disposal",
}


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def _c(attribute: str) -> str:
    return f"{{{CSIP_NS}}}{attribute}"


def _x(attribute: str) -> str:
    return f"{{{XLINK_NS}}}{attribute}"


def _id(prefix: str = "uuid") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def _now() -> str:
    return timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class FileFacts:
    href: str
    size: int
    sha256: str
    mimetype: str
    created: str


def _facts(path: Path, base: Path) -> FileFacts:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    mimetype = _mimetype(path)
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    return FileFacts(
        href=path.relative_to(base).as_posix(),
        size=path.stat().st_size,
        sha256=sha.hexdigest().upper(),
        mimetype=mimetype,
        created=modified.isoformat(timespec="seconds").replace("+00:00", "Z"),
    )


def _mimetype(path: Path) -> str:
    if path.suffix == ".jsonl":
        return "application/json"  # JSON Lines has no registered IANA type
    if path.suffix in (".json", ".xml", ".pdf", ".txt"):
        return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return "application/octet-stream"


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file())


def _mets_root(objid: str, label: str) -> etree._Element:
    root = etree.Element(_m("mets"), nsmap=NSMAP)  # type: ignore[arg-type]
    root.set("OBJID", objid)
    root.set("LABEL", label)
    root.set("TYPE", "Other")
    root.set(_c("OTHERTYPE"), "Social media records")
    root.set(_c("CONTENTINFORMATIONTYPE"), "OTHER")
    root.set(_c("OTHERCONTENTINFORMATIONTYPE"), OTHER_CONTENT_TYPE)
    root.set("PROFILE", SIP_PROFILE)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    header = etree.SubElement(root, _m("metsHdr"))
    header.set("CREATEDATE", _now())
    header.set("RECORDSTATUS", "NEW")
    header.set(_c("OAISPACKAGETYPE"), "SIP")
    software = etree.SubElement(header, _m("agent"))
    software.set("ROLE", "CREATOR")
    software.set("TYPE", "OTHER")
    software.set("OTHERTYPE", "SOFTWARE")
    etree.SubElement(software, _m("name")).text = "Narvaro"
    note = etree.SubElement(software, _m("note"))
    note.set(_c("NOTETYPE"), "SOFTWARE VERSION")
    note.text = __version__
    archivist = etree.SubElement(header, _m("agent"))
    archivist.set("ROLE", "ARCHIVIST")
    archivist.set("TYPE", "ORGANIZATION")
    etree.SubElement(archivist, _m("name")).text = settings.ORGANISATION_NAME
    return root


def _file_element(parent: etree._Element | None, facts: FileFacts) -> etree._Element:
    element = etree.Element(_m("file")) if parent is None else etree.SubElement(parent, _m("file"))
    element.set("ID", _id("file"))
    element.set("MIMETYPE", facts.mimetype)
    element.set("SIZE", str(facts.size))
    element.set("CREATED", facts.created)
    element.set("CHECKSUM", facts.sha256)
    element.set("CHECKSUMTYPE", "SHA-256")
    location = etree.SubElement(element, _m("FLocat"))
    location.set("LOCTYPE", "URL")
    location.set(_x("type"), "simple")
    location.set(_x("href"), facts.href)
    return element


def _file_group(parent: etree._Element, use: str, files: list[FileFacts]) -> str:
    group = etree.SubElement(parent, _m("fileGrp"))
    group_id = _id("filegrp")
    group.set("ID", group_id)
    group.set("USE", use)
    # Every group states its content information type: eark-validator 1.1's CSIP63 rule
    # refuses a group without one, though CSIP requires it only on representations.
    group.set(_c("CONTENTINFORMATIONTYPE"), "OTHER")
    group.set(_c("OTHERCONTENTINFORMATIONTYPE"), OTHER_CONTENT_TYPE)
    for facts in files:
        _file_element(group, facts)
    return group_id


def _div(parent: etree._Element, label: str, file_group: str | None = None) -> etree._Element:
    div = etree.SubElement(parent, _m("div"))
    div.set("ID", _id())
    div.set("LABEL", label)
    if file_group:
        etree.SubElement(div, _m("fptr")).set("FILEID", file_group)
    return div


def _write(root: etree._Element, path: Path) -> None:
    etree.ElementTree(root).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def _walk(folder: Path) -> Iterator[Path]:
    """Files under `folder` in name order, one directory listing at a time."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield Path(root) / name


def _representation_mets(folder: Path, name: str) -> None:
    """representations/<name>/METS.xml: every data file with its size and SHA-256.

    Written element by element (`etree.xmlfile`): a representation may hold millions of files.
    """
    template = _mets_root(name, f"Narvaro {name}")
    header = template.find(_m("metsHdr"))
    assert header is not None
    group_id = _id("filegrp")
    with etree.xmlfile(str(folder / "METS.xml"), encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(template.tag, dict(template.attrib), nsmap=template.nsmap):
            xf.write(header)
            with xf.element(_m("fileSec"), ID=_id()):
                group_attributes = {
                    "ID": group_id,
                    "USE": "Data",
                    _c("CONTENTINFORMATIONTYPE"): "OTHER",
                    _c("OTHERCONTENTINFORMATIONTYPE"): OTHER_CONTENT_TYPE,
                }
                with xf.element(_m("fileGrp"), group_attributes):
                    for path in _walk(folder / "data"):
                        xf.write(_file_element(None, _facts(path, folder)))
            struct = etree.Element(_m("structMap"), nsmap=NSMAP)  # type: ignore[arg-type]
            struct.set("ID", _id())
            struct.set("TYPE", "PHYSICAL")
            struct.set("LABEL", "CSIP")
            top = _div(struct, name)
            _div(top, "Data", group_id)
            xf.write(struct)


class _Premis:
    """Writes metadata/preservation/premis.xml one event at a time."""

    AGENT_SOFTWARE = "narvaro"
    AGENT_ORGANISATION = "organisation"

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(
        self,
        objid: str,
        representations: list[str],
        entry_log: Path | None,
        verification: dict[str, Any],
    ) -> None:
        with etree.xmlfile(str(self.path), encoding="UTF-8") as xf:
            xf.write_declaration()
            with xf.element(f"{{{PREMIS_NS}}}premis", nsmap={"premis": PREMIS_NS}, version="3.0"):
                for name in representations:
                    xf.write(self._object(f"{objid}/{name}", "representation"))
                actors: set[str] = set()
                if entry_log is not None and entry_log.exists():
                    with entry_log.open(encoding="utf-8") as log:
                        for line in log:
                            entry = json.loads(line)
                            if entry["actor"]:
                                actors.add(entry["actor"])
                            xf.write(self._chain_event(objid, entry))
                xf.write(self._fixity_event(objid, verification))
                xf.write(self._agent(self.AGENT_SOFTWARE, f"Narvaro {__version__}", "software"))
                xf.write(
                    self._agent(self.AGENT_ORGANISATION, settings.ORGANISATION_NAME, "organization")
                )
                for actor in sorted(actors):
                    xf.write(self._agent(f"person:{actor}", actor, "person"))

    def _p(self, tag: str) -> str:
        return f"{{{PREMIS_NS}}}{tag}"

    def _text(self, parent: etree._Element, tag: str, text: str) -> etree._Element:
        element = etree.SubElement(parent, self._p(tag))
        element.text = text
        return element

    def _identifier(self, parent: etree._Element, kind: str, type_: str, value: str) -> None:
        identifier = etree.SubElement(parent, self._p(f"{kind}Identifier"))
        self._text(identifier, f"{kind}IdentifierType", type_)
        self._text(identifier, f"{kind}IdentifierValue", value)

    def _object(self, value: str, xsi_type: str) -> etree._Element:
        element = etree.Element(self._p("object"), nsmap={"xsi": XSI_NS})
        element.set(f"{{{XSI_NS}}}type", f"premis:{xsi_type}")
        self._identifier(element, "object", "local", value)
        return element

    def _event(
        self, identifier: str, event_type: str, when: str, detail: str, outcome: str | None
    ) -> etree._Element:
        event = etree.Element(self._p("event"))
        self._identifier(event, "event", "local", identifier)
        self._text(event, "eventType", event_type)
        self._text(event, "eventDateTime", when)
        info = etree.SubElement(event, self._p("eventDetailInformation"))
        self._text(info, "eventDetail", detail)
        if outcome is not None:
            outcome_info = etree.SubElement(event, self._p("eventOutcomeInformation"))
            self._text(outcome_info, "eventOutcome", outcome)
        return event

    def _link_agent(self, event: etree._Element, agent: str, role: str) -> None:
        link = etree.SubElement(event, self._p("linkingAgentIdentifier"))
        self._text(link, "linkingAgentIdentifierType", "local")
        self._text(link, "linkingAgentIdentifierValue", agent)
        self._text(link, "linkingAgentRole", role)

    def _link_object(self, event: etree._Element, value: str) -> None:
        link = etree.SubElement(event, self._p("linkingObjectIdentifier"))
        self._text(link, "linkingObjectIdentifierType", "local")
        self._text(link, "linkingObjectIdentifierValue", value)

    def _chain_event(self, objid: str, entry: dict[str, Any]) -> etree._Element:
        if entry["type"] == "version":
            kind = "capture" if entry["number"] == 1 else "edit"
            detail = f"{entry['item']} version {entry['number']} recorded by {entry['source']}"
        else:
            kind = entry["type"]
            detail = f"{entry['item']}: {entry['type']} (recorded by {entry['source']})"
        when = entry["occurred_at"] or entry["recorded_at"]
        event = self._event(
            f"{entry['account']}#{entry['seq']}",
            EVENT_TYPES.get(kind, kind),
            when,
            f"{detail}; chain digest {entry['chain_digest']}",
            None,
        )
        if entry["actor"]:
            self._link_agent(event, f"person:{entry['actor']}", "implementer")
        self._link_agent(event, self.AGENT_SOFTWARE, "executing program")
        self._link_object(event, f"{objid}/records")
        return event

    def _fixity_event(self, objid: str, verification: dict[str, Any]) -> etree._Element:
        intact = verification.get("intact", False)
        event = self._event(
            f"{objid}#fixity",
            "fixity check",
            _now(),
            "Chain, content and payload digests recomputed while exporting "
            "(documentation/fixity/verification.json)",
            "success" if intact else "failure",
        )
        self._link_agent(event, self.AGENT_SOFTWARE, "executing program")
        self._link_object(event, f"{objid}/records")
        return event

    def _agent(self, identifier: str, name: str, agent_type: str) -> etree._Element:
        agent = etree.Element(self._p("agent"))
        self._identifier(agent, "agent", "local", identifier)
        self._text(agent, "agentName", name)
        self._text(agent, "agentType", agent_type)
        return agent


def build_eark(
    folder: Path,
    scope: Scope,
    *,
    scratch: Path,
    progress: Callable[[int], None] | None = None,
    renderer: Renderer | None = None,
) -> BuiltPackage:
    """Fill `folder` (named after the package's OBJID) with a complete E-ARK SIP of `scope`."""
    objid = folder.name
    flat = scratch / "flat"
    result = write_records(flat, scope, work=scratch, progress=progress)
    renderings: list[str] = []
    if renderer is not None:
        (flat / "renderings").mkdir()
        renderings = [p.relative_to(flat).as_posix() for p in renderer(flat / "renderings", scope)]
    # Representations: each folder write_records filled becomes one, with its own METS.
    present = []
    for name, source in REPRESENTATIONS.items():
        if not (flat / source).is_dir() or next(_walk(flat / source), None) is None:
            continue
        data = folder / "representations" / name / "data"
        data.mkdir(parents=True)
        shutil.move(str(flat / source), str(data / source))
        _representation_mets(folder / "representations" / name, name)
        present.append(name)
    shutil.move(str(flat / "schema"), str(folder / "schemas"))
    (folder / "documentation").mkdir()
    shutil.move(str(flat / "fixity"), str(folder / "documentation" / "fixity"))
    preservation = folder / "metadata" / "preservation"
    preservation.mkdir(parents=True)
    verification = json.loads(
        (folder / "documentation" / "fixity" / "verification.json").read_text()
    )
    _Premis(preservation / "premis.xml").write(objid, present, result.entry_log, verification)
    _package_mets(folder, objid, present, scope)
    return BuiltPackage(records=result, renderings=renderings)


def _package_mets(folder: Path, objid: str, representations: list[str], scope: Scope) -> None:
    root = _mets_root(objid, f"Narvaro records {scope.date_from or ''}–{scope.date_to or ''}")
    amd = etree.SubElement(root, _m("amdSec"))
    amd.set("ID", _id())
    digiprov = etree.SubElement(amd, _m("digiprovMD"))
    digiprov_id = _id("digiprov")
    digiprov.set("ID", digiprov_id)
    digiprov.set("STATUS", "CURRENT")
    premis = _facts(folder / "metadata" / "preservation" / "premis.xml", folder)
    reference = etree.SubElement(digiprov, _m("mdRef"))
    reference.set("ID", _id("mdref"))
    reference.set("LOCTYPE", "URL")
    reference.set("MDTYPE", "PREMIS")
    reference.set(_x("type"), "simple")
    reference.set(_x("href"), premis.href)
    reference.set("MIMETYPE", "application/xml")
    reference.set("SIZE", str(premis.size))
    reference.set("CREATED", premis.created)
    reference.set("CHECKSUM", premis.sha256)
    reference.set("CHECKSUMTYPE", "SHA-256")
    file_sec = etree.SubElement(root, _m("fileSec"))
    file_sec.set("ID", _id())
    documentation = _file_group(
        file_sec, "Documentation", [_facts(p, folder) for p in _files(folder / "documentation")]
    )
    schemas = _file_group(
        file_sec, "Schemas", [_facts(p, folder) for p in _files(folder / "schemas")]
    )
    groups = {
        name: _file_group(
            file_sec,
            f"Representations/{name}",
            [_facts(folder / "representations" / name / "METS.xml", folder)],
        )
        for name in representations
    }
    struct = etree.SubElement(root, _m("structMap"))
    struct.set("ID", _id())
    struct.set("TYPE", "PHYSICAL")
    struct.set("LABEL", "CSIP")
    top = _div(struct, objid)
    metadata = _div(top, "Metadata")
    metadata.set("ADMID", digiprov_id)
    _div(top, "Documentation", documentation)
    _div(top, "Schemas", schemas)
    # CSIP 2.1 labels each representation's division "Representations/<name>"; eark-validator
    # 1.1 also wants one "Representations" division (CSIP103/104), so those divisions sit in it.
    representations_div = _div(top, "Representations")
    for group in groups.values():
        etree.SubElement(representations_div, _m("fptr")).set("FILEID", group)
    for name, group in groups.items():
        div = _div(representations_div, f"Representations/{name}")
        pointer = etree.SubElement(div, _m("mptr"))
        pointer.set(_x("type"), "simple")
        pointer.set(_x("href"), f"representations/{name}/METS.xml")
        pointer.set(_x("title"), group)
        pointer.set("LOCTYPE", "URL")
    _write(root, folder / "METS.xml")
