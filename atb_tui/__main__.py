from atb_tui.cli import main

raise SystemExit(main())
