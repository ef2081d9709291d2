"""`python -m ops import amplify`: an Amplify Gen1 project with container APIs, read into a stack file.

The reading follows what the Amplify CLI itself writes (docs/design.md, "Moving from Amplify Gen1", cites the
source of each fact):

* ``project.py`` finds the project and reads its JSON files (backend-config.json, amplify-meta.json,
  team-provider-info.json), and the chosen env's region, root stack and account;
* ``apis.py`` turns each `ElasticContainer` API into the stack's API keys, with the quirks that change behaviour;
* ``storage.py`` turns the DynamoDB storage resources into tables (``existingTable`` by default);
* ``secrets.py`` decides, per compose secret, between the local ``.secret-`` file and Amplify's own secret;
* ``stack.py`` puts it together: the stack config, the report (found, written, warnings, what cannot come across)
  and the YAML text.

Nothing here writes anything but the stack file, and nothing reads a secret's value.
"""
