"""The docs pre-processing of `make test` (what CI can check without Quarto): `nbdev-proc-nbs`, without nbdev's attempt
to download Quarto with curl and install it with sudo when it is not on the PATH (nothing is installed behind the
user's back; on a machine with Quarto, `nbdev-docs` renders the site as usual)."""
import nbdev.quarto as quarto

quarto._ensure_quarto = lambda: None
quarto.nbdev_proc_nbs.__wrapped__()
