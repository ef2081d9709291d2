"""The offline plan: the program under Pulumi's mock runtime (``mockrun``), the report with policy results and
idle cost (``report``), and the architecture picture (``diagram``). No cloud is contacted."""
