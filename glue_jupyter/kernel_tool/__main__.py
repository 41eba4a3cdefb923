from .mcp import main

main()
