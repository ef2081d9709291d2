"""Pulumi entry point: `pulumi up --stack dev` runs this file."""
from components.program import main

main()
