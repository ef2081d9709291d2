"""Secrets Manager secrets for an API's compose secrets, one per secret per stack."""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.compose.model import Secret

# Tag on a secret created with the value of a committed sample file; policy `no-sample-secrets` judges it.
SAMPLE_VALUE_TAG = "serverless-containers:sample-value"


def secret_physical_name(stack: str, api: str, secret: str) -> str:
    return f"serverless-containers/{stack}/{api}/{secret}"


@dataclass
class SecretsArgs:
    stack: str
    api: str
    secrets: dict[str, Secret]
    """The app's top-level compose secrets, values read from their `.secret-*` files."""
    values: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret -> value from the stack config (`secretValues`, a Pulumi secret): stored like a file's value."""
    existing_arns: dict[str, str] = field(default_factory=dict)
    """Secret -> ARN of an existing Secrets Manager secret (`secretArns`): used as it is; this stack never creates,
    reads or rewrites it."""
    sample_files: dict[str, str] = field(default_factory=dict)
    """Secret -> the committed sample file whose value it has (components/program.py): tagged SAMPLE_VALUE_TAG so
    the policy pack sees it (the value itself is a Pulumi secret)."""
    recovery_window_in_days: int = 0
    """0: deleted at once with the stack, so a new stack can reuse the name. 7-30 keeps a deleted
    secret restorable that long (and its name taken)."""
    tags: dict[str, str] = field(default_factory=dict)


class Secrets(pulumi.ComponentResource):
    """Each value is stored as a Pulumi secret: encrypted in the state, masked in logs and outputs."""

    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:secrets:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.secret_arns = {}
        for secret_name, secret in sorted(args.secrets.items()):
            if secret_name in args.existing_arns:
                self.secret_arns[secret_name] = pulumi.Output.from_input(args.existing_arns[secret_name])
                continue
            origin = secret.file.name if secret.file is not None else f"stack config {secret.stack_config}"
            value = args.values.get(secret_name, secret.value)
            resource = aws.secretsmanager.Secret(
                f"{name}-{secret_name}",
                name=secret_physical_name(args.stack, args.api, secret_name),
                description=f"compose secret {secret_name} of API {args.api} (from {origin})",
                recovery_window_in_days=args.recovery_window_in_days,
                tags={**args.tags, **({SAMPLE_VALUE_TAG: args.sample_files[secret_name]}
                                      if secret_name in args.sample_files else {})}, opts=child)
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{secret_name}", secret_id=resource.id,
                secret_string=pulumi.Output.secret(value), opts=child)
            # Combined with the version's id so every user of the ARN (the task definition, hence the
            # service) waits until the value is stored: a task started earlier could not read it.
            self.secret_arns[secret_name] = pulumi.Output.all(resource.arn, version.id).apply(lambda parts: parts[0])
        self.register_outputs({"secretArns": self.secret_arns})
