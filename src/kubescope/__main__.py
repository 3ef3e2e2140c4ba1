from kubescope.cli import main

raise SystemExit(main())
