"""Every test runs offline, whether pytest is started by `make test` or directly: no hub lookups, no retries. And a
free port for each `accelerate launch` a test starts."""
import os
import socket

import pytest

for _k, _v in dict(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                   TOKENIZERS_PARALLELISM="false").items():
    os.environ.setdefault(_k, _v)


@pytest.fixture
def free_port() -> int:
    "A local port nobody listens on, for an `accelerate launch --main_process_port` (not accelerate's default 29500)."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
