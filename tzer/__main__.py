import sys

from tzer.cli import main

sys.exit(main())
