"""The stack as files and as a Pulumi stack: the Automation API (``workspace``), stack outputs (``outputs``),
stack config files (``stack_config``), client config files (``amplify_config``) and the `add` walkthroughs'
edits (``scaffold``)."""
