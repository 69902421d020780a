"""CSV import of leads: mapping file, streaming reader, per-row validation, chunked bulk writer.

``import_file(path, mapping, *, actor=None, dry_run=False) -> ImportResult`` is the entry point
for the CLI, the page's background job and the benchmark. See ``mapping`` for the mapping file
format and ``runner`` for chunks, checkpoints and resuming.
"""

from leadpact.leads.services.imports.mapping import (
    ColumnMapping,
    MappingError,
    mapping_from_dict,
    mapping_from_json,
    mapping_guess,
    mapping_load,
)
from leadpact.leads.services.imports.reader import ImportFileError
from leadpact.leads.services.imports.runner import (
    CHUNK_SIZE,
    ImportFailed,
    ImportResult,
    import_file,
    import_job_run,
    import_result,
)

__all__ = [
    "CHUNK_SIZE",
    "ColumnMapping",
    "ImportFailed",
    "ImportFileError",
    "ImportResult",
    "MappingError",
    "import_file",
    "import_job_run",
    "import_result",
    "mapping_from_dict",
    "mapping_from_json",
    "mapping_guess",
    "mapping_load",
]
