"""DynamoDB tables from the `storage` config, and what an API's containers get when granted access."""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.settings.regions import partition_of
from components.settings.storage import TableSettings, table_physical_name
from components.providers.table_keys import TableKeys

# The DynamoDB actions each granted operation allows. `update` includes PutItem because a full
# replace of an item is an update too (and the sample app's PUT does exactly that); `delete` includes
# BatchWriteItem because that is how many items are deleted at once. DescribeTable sits with `read`
# because SDK helpers (document clients, ORMs) call it before reading.
DYNAMODB_ACTIONS: dict[str, tuple[str, ...]] = {
    "create": ("dynamodb:PutItem", "dynamodb:BatchWriteItem"),
    "read": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
             "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"),
    "update": ("dynamodb:UpdateItem", "dynamodb:PutItem"),
    "delete": ("dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
}


def dynamodb_actions(operations: tuple[str, ...] | list[str]) -> list[str]:
    return sorted({action for op in operations for action in DYNAMODB_ACTIONS[op]})


def dynamodb_statements(grants: list[tuple[str, tuple[str, ...]]]) -> list[dict]:
    """IAM statements for (table ARN, operations) pairs: the actions on the table and its indexes."""
    return [{
        "Sid": f"Table{index}",
        "Effect": "Allow",
        "Action": dynamodb_actions(operations),
        "Resource": [arn, f"{arn}/index/*"],
    } for index, (arn, operations) in enumerate(grants)]


@dataclass
class StorageArgs:
    stack: str
    tables: dict[str, TableSettings]
    region: str = "us-east-1"
    """The deploy's region and account: an `existingTable` given by name gets its ARN from them."""
    account_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    encrypt_with_kms: bool = True
    """True: server-side encryption with the AWS-managed `aws/dynamodb` KMS key (no key fee, access shows
    in CloudTrail). DynamoDB encrypts with an AWS-owned key even when False."""
    deletion_protection: bool = False
    """False: the table is deleted with the stack (`pulumi destroy`); back it up first if it matters. A table's
    own `deletionProtection: true` (stack config) protects that table whatever this says."""


class Storage(pulumi.ComponentResource):
    """One on-demand DynamoDB table per configured table: no cost while idle."""

    table_names: dict[str, pulumi.Output[str]]
    table_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-containers:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.table_names, self.table_arns = {}, {}
        for table_name, table in args.tables.items():
            if table.existing_table:
                # `existingTable`: no resource and no key guard, so the stack never changes or deletes it.
                self.table_names[table_name] = pulumi.Output.from_input(table.physical_name(args.stack))
                self.table_arns[table_name] = pulumi.Output.from_input(
                    table.arn(args.stack, args.region, args.account_id, partition_of(args.region)))
                continue
            keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
            physical = table_physical_name(args.stack, table_name)
            # A key change replaces the table; refused at preview unless the config opts in (providers/table_keys).
            guard = TableKeys(
                f"{name}-{table_name}-keys", table=table_name, physical_name=physical,
                partition_key={"name": table.partition_key.name, "type": table.partition_key.type},
                sort_key={"name": table.sort_key.name, "type": table.sort_key.type} if table.sort_key else None,
                replace_on_key_change=table.replace_on_key_change, opts=child)
            protected = args.deletion_protection or table.deletion_protection
            if table.replace_on_key_change:
                pulumi.log.warn(f"table {table_name}: replaceOnKeyChange is on, so a change of its partition or sort "
                                f"key deletes {physical} with all its items and creates an empty one. Turn it off "
                                "again after that update.")
            resource = aws.dynamodb.Table(
                f"{name}-{table_name}",
                name=physical,
                billing_mode="PAY_PER_REQUEST",
                hash_key=table.partition_key.name,
                range_key=table.sort_key.name if table.sort_key else None,
                attributes=[{"name": key.name, "type": key.type} for key in keys],
                server_side_encryption={"enabled": args.encrypt_with_kms},
                point_in_time_recovery={"enabled": table.point_in_time_recovery},
                deletion_protection_enabled=protected,
                tags={**args.tags, "table": table_name},
                # The name is fixed, so a replacement must delete the old table first (create-first would fail
                # halfway with "Table already exists"). A protected table is never deleted or replaced.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[guard], delete_before_replace=True,
                                            protect=protected))
            self.table_names[table_name] = resource.name
            self.table_arns[table_name] = resource.arn
        self.register_outputs({"tableNames": self.table_names, "tableArns": self.table_arns})
