from kunlun_cli.main import main

raise SystemExit(main())
