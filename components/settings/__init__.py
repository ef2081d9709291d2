"""The stack settings: a stack file's raw `serverless-containers:*` values in, typed and checked settings out.

Pure Python (no Pulumi import; tests/test_layout.py checks it), so the program, the offline plan and `ops add`
read a stack the same way. One module a key, named after it:

* ``stack.py`` the top-level keys and ``load_settings``, the one entry point;
* ``apis.py`` an entry of `apis`; ``compose_keys.py`` its `port` and `volumes`; ``scaling.py`` its count keys
  (`replicas`, `scaling`, `sleep`, `awake`) and the count plan; ``domain.py`` its `domain`;
* ``storage.py`` `storage` (tables, their physical names and the variables a container gets, `existingTable`);
* ``auth.py`` `existingUserPool` (a pool the stack trusts but does not own);
* ``secrets.py`` `secretValues` and `secretArns`; ``security.py`` the security keys; ``alerts.py`` `alerts`;
* ``regions.py`` `aws:region` against botocore's regions; ``names.py`` every physical name and its AWS limit;
* ``checks.py`` the checker that names the file and the key in every ConfigError.
"""
from components.settings.apis import ApiSettings
from components.settings.checks import NAMESPACE
from components.settings.stack import StackSettings, load_settings

__all__ = ["NAMESPACE", "ApiSettings", "StackSettings", "load_settings"]
