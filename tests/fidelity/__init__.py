"""Cloud fidelity: the program's payloads checked against botocore's service models and applied to moto.

* ``aws_requests``: recorded Pulumi inputs -> the AWS API requests the Terraform AWS provider sends.
* ``validate``: botocore's ParamValidator plus what it leaves out (enums, maximums, patterns) and the
  documents inside strings (IAM policies, ECR lifecycle policies, buildspecs, container definitions).
* ``moto_smoke``: the whole graph applied to moto in dependency order, ids and ARNs swapped for moto's.
* ``cases``: the stacks, variants and compose apps the suite runs.
"""
