"""The program's dynamic providers.

Pulumi pickles a dynamic provider by reference (module path and class name) into every deployed stack's
state, and unpickles it for each later refresh, update and destroy. So the modules here and the provider
classes in them never move or get renamed: a stack deployed with one path could not be refreshed or
destroyed after a rename. Add new providers here; change code inside them freely (docs/design.md).
"""
