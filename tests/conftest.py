"""Every test runs offline, whether pytest is started by `make test` or directly: no hub lookups, no retries."""
import os

for _k, _v in dict(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                   TOKENIZERS_PARALLELISM="false").items():
    os.environ.setdefault(_k, _v)
