"""Open a REFI-QDA file (``.qdpx`` project zip, bare ``.qde`` project XML, ``.qdc`` codebook) as
untrusted input.

Nothing is extracted to disk: members are read into memory, each bounded in size and in compression
ratio, and a member whose name would escape a target folder (absolute, ``..``, drive letters, links)
makes the whole file refused. XML is parsed by defusedxml with DTDs forbidden, so entities are never
expanded and nothing external is fetched.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from kxgraph.errors import DataFormatError, InputError
from kxgraph.loaders.files import read_limited, regular_file

__all__ = ["MAX_ARCHIVE_BYTES", "MAX_MEMBER_BYTES", "MAX_RATIO", "RefiFile", "open_refi"]

MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024   # the .qdpx itself
MAX_MEMBER_BYTES = 64 * 1024 * 1024      # one member, uncompressed (as for documents)
MAX_TOTAL_BYTES = 512 * 1024 * 1024      # all members read, uncompressed
MAX_MEMBERS = 20_000
MAX_RATIO = 200                          # uncompressed / compressed, per member of more than 1 MiB
PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
EXTENSIONS = (".qdpx", ".qde", ".qdc")


@dataclass
class RefiFile:
    """A REFI-QDA file, opened: its XML root and a bounded reader of its other members."""

    path: Path
    kind: str                 # "project" or "codebook"
    root: Element
    xml_name: str             # the member (or file) the XML came from
    _zip: zipfile.ZipFile | None = None
    _members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    _read_total: int = 0

    def member_names(self) -> list[str]:
        return sorted(self._members)

    def read_member(self, name: str) -> bytes | None:
        """The bytes of one member of the zip (``None`` when there is no such member)."""
        if self._zip is None:
            return None
        info = self._members.get(name)
        if info is None:
            # tools differ in case and in the 'sources/' prefix: look both up
            lowered = {k.lower(): v for k, v in self._members.items()}
            info = lowered.get(name.lower()) or lowered.get(f"sources/{name}".lower())
        if info is None:
            return None
        data = _read_bounded(self._zip, info, self.path)
        self._read_total += len(data)
        if self._read_total > MAX_TOTAL_BYTES:
            raise InputError(f"the archive expands to more than {MAX_TOTAL_BYTES} bytes", file=str(self.path),
                             place=info.filename, fix="split the project, or leave out large sources")
        return data

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _unsafe_name(name: str) -> str | None:
    """Why a member name would escape the folder it is extracted to, or None when it is safe."""
    if "\x00" in name:
        return "it contains a NUL character"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "it is an absolute path"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        return "it climbs out of the folder with '..'"
    return None


def _read_bounded(z: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """Read a member, never more than the limit, whatever its header declares; a damaged member
    (bad CRC, false sizes, a broken deflate stream, an unknown compression) is a clear error."""
    try:
        with z.open(info) as f:
            data = f.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        raise InputError(f"the member is damaged and cannot be read ({type(exc).__name__}: {exc})", file=str(path),
                         place=info.filename, fix="export the project again from the QDA program") from None
    if len(data) > MAX_MEMBER_BYTES:
        raise InputError(f"the member expands to more than {MAX_MEMBER_BYTES} bytes", file=str(path),
                         place=info.filename, fix="split the document, or leave it out of the export")
    if len(data) != info.file_size:
        raise InputError(f"the member is damaged: it holds {len(data)} bytes, its header says {info.file_size}",
                         file=str(path), place=info.filename, fix="export the project again from the QDA program")
    return data


def parse_xml(data: bytes, *, file: str, place: str) -> Element:
    """Parse XML without DTDs (so no entity expansion, no external fetch)."""
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DataFormatError(f"the XML declares a DTD or entities, which kxgraph never expands ({exc})",
                              file=file, place=place,
                              fix="export again from the QDA program; REFI-QDA files need no DTD") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise DataFormatError(f"not well-formed XML: {exc}", file=file, place=f"{place} line {line}, column {column}",
                              fix="export again from the QDA program (the file is damaged)") from None


def _kind_of(root: Element, *, file: str, place: str) -> str:
    tag = root.tag
    if tag in (f"{{{PROJECT_NS}}}Project", "Project"):
        return "project"
    if tag in (f"{{{CODEBOOK_NS}}}CodeBook", "CodeBook"):
        return "codebook"
    raise DataFormatError(f"the root element is {tag}, not a REFI-QDA Project or CodeBook", file=file,
                          place=place, fix="give a .qdpx, .qde or .qdc file written by a QDA program")


def open_refi(path: Path) -> RefiFile:
    """Open and check a REFI-QDA file; the caller closes it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise InputError(f"{suffix or 'a file without extension'} is not a REFI-QDA file", file=str(path),
                         fix="give a .qdpx project, a .qde project file or a .qdc codebook")
    regular_file(path, what="REFI-QDA file")
    size = path.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise InputError(f"the file is {size} bytes, more than {MAX_ARCHIVE_BYTES}", file=str(path),
                         fix="split the project")
    if suffix in (".qde", ".qdc"):
        if size > MAX_MEMBER_BYTES:
            raise InputError(f"the file is {size} bytes, more than {MAX_MEMBER_BYTES}", file=str(path),
                             fix="split the project")
        root = parse_xml(read_limited(path, MAX_MEMBER_BYTES, what="REFI-QDA file"), file=str(path), place="")
        return RefiFile(path=path, kind=_kind_of(root, file=str(path), place=""), root=root, xml_name=path.name)
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise InputError(f"not a zip archive ({exc})", file=str(path),
                         fix="a .qdpx is a zip file: export the project again") from None
    try:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"the archive holds {len(infos)} members, more than {MAX_MEMBERS}", file=str(path),
                             fix="split the project")
        members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            why = _unsafe_name(info.filename)
            if why is None and stat.S_ISLNK(info.external_attr >> 16):
                why = "it is a symbolic link"
            if why is not None:
                raise InputError(f"the archive is refused: the member {info.filename!r} is unsafe ({why})",
                                 file=str(path), place=info.filename,
                                 fix="export the project again from the QDA program; do not edit the zip by hand")
            if info.is_dir():
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise InputError(f"the member declares {info.file_size} bytes, more than {MAX_MEMBER_BYTES}",
                                 file=str(path), place=info.filename, fix="split the document")
            if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(f"the member compresses more than {MAX_RATIO}:1 (a zip bomb?)", file=str(path),
                                 place=info.filename, fix="export the project again from the QDA program")
            members[info.filename] = info
        qde = [n for n in members if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if not qde:
            qde = [n for n in members if n.lower().endswith(".qde")]
        if len(qde) != 1:
            raise InputError(
                "the archive holds no .qde project file" if not qde else
                f"the archive holds {len(qde)} .qde files ({', '.join(sorted(qde))})",
                file=str(path), place="/", fix="a .qdpx holds exactly one project.qde beside its sources/ folder")
        data = _read_bounded(z, members[qde[0]], path)
        root = parse_xml(data, file=str(path), place=qde[0])
        kind = _kind_of(root, file=str(path), place=qde[0])
    except BaseException:
        z.close()
        raise
    return RefiFile(path=path, kind=kind, root=root, xml_name=qde[0], _zip=z, _members=members,
                    _read_total=len(data))
