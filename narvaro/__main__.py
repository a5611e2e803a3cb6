from narvaro.cli import main

raise SystemExit(main())
