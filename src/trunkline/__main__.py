"""``python -m trunkline``: the same as the ``trunkline`` command."""

from trunkline.cli import main

raise SystemExit(main())
