"""Mappers for Cognito, DynamoDB, Secrets Manager, S3 and EFS: recorded Pulumi inputs -> the AWS API requests (see
aws_requests.py)."""
from __future__ import annotations

import base64
import urllib.parse

from tests.fidelity.request_shapes import AUTONAME_SUFFIX, PREFIX_SUFFIX, Inputs, compact, pascal, tag_list

# --- Cognito -------------------------------------------------------------------------------------

_COGNITO_POOL_KEYS = ("usernameAttributes", "aliasAttributes", "autoVerifiedAttributes", "accountRecoverySetting",
                      "usernameConfiguration", "deletionProtection", "mfaConfiguration", "adminCreateUserConfig",
                      "emailConfiguration", "verificationMessageTemplate", "userAttributeUpdateSettings",
                      "deviceConfiguration", "lambdaConfig", "userPoolAddOns", "userPoolTier",
                      "emailVerificationMessage", "emailVerificationSubject", "smsAuthenticationMessage",
                      "smsVerificationMessage", "smsConfiguration")


def _user_pool(i: Inputs) -> list:
    params = pascal(compact({k: i.get(k) for k in _COGNITO_POOL_KEYS}),
                    {"smsMessage": "SMSMessage", "snsCallerArn": "SnsCallerArn",
                     # the provider's plural name for Cognito's singular member
                     "attributesRequireVerificationBeforeUpdates": "AttributesRequireVerificationBeforeUpdate"})
    policies = compact({"PasswordPolicy": pascal(i.get("passwordPolicy")),
                        "SignInPolicy": pascal(i.get("signInPolicy"))})
    schema = [pascal(s) for s in i.get("schemas") or []]
    out = [("cognito-idp", "CreateUserPool", compact({
        "PoolName": i.get("name"), **params, "Policies": policies or None, "Schema": schema or None,
        "UserPoolTags": i.get("tags") or None}), True)]
    software_token = i.get("softwareTokenMfaConfiguration")
    if software_token:
        # The provider sets TOTP MFA after the pool exists (CreateUserPool takes no software-token settings).
        out.append(("cognito-idp", "SetUserPoolMfaConfig", {
            "UserPoolId": i.resource.id, "MfaConfiguration": i.data.get("mfaConfiguration", "OFF"),
            "SoftwareTokenMfaConfiguration": pascal(software_token)}))
    return out


_CLIENT_RENAMES = {"name": "ClientName", "callbackUrls": "CallbackURLs", "logoutUrls": "LogoutURLs",
                   "defaultRedirectUri": "DefaultRedirectURI", "allowedOauthFlows": "AllowedOAuthFlows",
                   "allowedOauthScopes": "AllowedOAuthScopes",
                   "allowedOauthFlowsUserPoolClient": "AllowedOAuthFlowsUserPoolClient"}


def _user_pool_client(i: Inputs) -> list:
    keys = ("userPoolId", "name", "generateSecret", "refreshTokenValidity", "accessTokenValidity", "idTokenValidity",
            "tokenValidityUnits", "readAttributes", "writeAttributes", "explicitAuthFlows",
            "supportedIdentityProviders", "callbackUrls", "logoutUrls", "defaultRedirectUri", "allowedOauthFlows",
            "allowedOauthScopes", "allowedOauthFlowsUserPoolClient", "analyticsConfiguration",
            "preventUserExistenceErrors", "enableTokenRevocation", "enablePropagateAdditionalUserContextData",
            "authSessionValidity")
    return [("cognito-idp", "CreateUserPoolClient",
             pascal(compact({k: i.get(k) for k in keys}), _CLIENT_RENAMES), True)]


def _user_pool_domain(i: Inputs) -> list:
    certificate = i.get("certificateArn")
    return [("cognito-idp", "CreateUserPoolDomain", compact({
        "Domain": i.get("domain"), "UserPoolId": i.get("userPoolId"),
        "CustomDomainConfig": {"CertificateArn": certificate} if certificate else None,
        "ManagedLoginVersion": i.get("managedLoginVersion")}), True)]


# --- DynamoDB ------------------------------------------------------------------------------------

def _table(i: Inputs) -> list:
    name = i.get("name")
    keys = [{"AttributeName": i.get("hashKey"), "KeyType": "HASH"}]
    if i.get("rangeKey"):
        keys.append({"AttributeName": i.data["rangeKey"], "KeyType": "RANGE"})
    sse = i.get("serverSideEncryption")
    sse_spec = None
    if sse and sse.get("enabled"):
        sse_spec = compact({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": sse.get("kmsKeyArn")})
    billing = i.get("billingMode")
    throughput = None
    if billing in (None, "PROVISIONED"):
        throughput = {"ReadCapacityUnits": i.get("readCapacity"), "WriteCapacityUnits": i.get("writeCapacity")}
    stream = None
    if i.get("streamEnabled"):
        stream = {"StreamEnabled": True, "StreamViewType": i.get("streamViewType")}
    out = [("dynamodb", "CreateTable", compact({
        "TableName": name, "AttributeDefinitions": [{"AttributeName": a.get("name"), "AttributeType": a.get("type")}
                                                    for a in i.get("attributes") or []],
        "KeySchema": keys, "BillingMode": billing, "ProvisionedThroughput": throughput, "SSESpecification": sse_spec,
        "StreamSpecification": stream, "TableClass": i.get("tableClass"),
        "DeletionProtectionEnabled": i.get("deletionProtectionEnabled"),
        "GlobalSecondaryIndexes": [_index(g, global_index=True) for g in i.get("globalSecondaryIndexes") or []] or None,
        "LocalSecondaryIndexes": [_index(g, global_index=False, hash_key=i.data.get("hashKey"))
                                  for g in i.get("localSecondaryIndexes") or []] or None,
        "Tags": tag_list(i.get("tags"))}), True)]
    recovery = i.get("pointInTimeRecovery")
    if recovery and recovery.get("enabled"):     # the provider calls it only to turn recovery on
        out.append(("dynamodb", "UpdateContinuousBackups", {"TableName": name, "PointInTimeRecoverySpecification": compact({
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": recovery.get("recoveryPeriodInDays")})}))
    ttl = i.get("ttl")
    if ttl and ttl.get("enabled"):
        out.append(("dynamodb", "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": {
            "Enabled": True, "AttributeName": ttl.get("attributeName")}}))
    return out


def _index(index: dict, *, global_index: bool, hash_key: str | None = None) -> dict:
    keys = [{"AttributeName": index.get("hashKey", hash_key), "KeyType": "HASH"}]
    if index.get("rangeKey"):
        keys.append({"AttributeName": index["rangeKey"], "KeyType": "RANGE"})
    projection = compact({"ProjectionType": index.get("projectionType"),
                          "NonKeyAttributes": index.get("nonKeyAttributes")})
    return compact({"IndexName": index.get("name"), "KeySchema": keys, "Projection": projection})


# --- Secrets Manager -----------------------------------------------------------------------------

def _secret(i: Inputs) -> list:
    name = i.name()
    out = [("secretsmanager", "CreateSecret", compact({
        "Name": name, "Description": i.get("description"), "KmsKeyId": i.get("kmsKeyId"),
        "Tags": tag_list(i.get("tags")), "ForceOverwriteReplicaSecret": i.get("forceOverwriteReplicaSecret"),
        "AddReplicaRegions": pascal(i.get("replicas"), {"kmsKeyId": "KmsKeyId"})}), True)]
    if i.get("policy"):
        out.append(("secretsmanager", "PutResourcePolicy", {"SecretId": name, "ResourcePolicy": i.data["policy"]}))
    window = i.get("recoveryWindowInDays")
    if window is not None:   # sent when the stack is destroyed
        out.append(("secretsmanager", "DeleteSecret", {"SecretId": name, "ForceDeleteWithoutRecovery": True}
                    if not window else {"SecretId": name, "RecoveryWindowInDays": window}))
    return out


def _secret_version(i: Inputs) -> list:
    binary = i.get("secretBinary")
    return [("secretsmanager", "PutSecretValue", compact({
        "SecretId": i.get("secretId"), "SecretString": i.get("secretString"),
        "SecretBinary": base64.b64decode(binary) if binary else None,
        "VersionStages": i.get("versionStages")}), True)]


# --- S3 ------------------------------------------------------------------------------------------

def _bucket_name(i: Inputs) -> str:
    return i.name(key="bucket", prefix_key="bucketPrefix").lower()


def _bucket(i: Inputs) -> list:
    i.provider_only("forceDestroy")
    name = _bucket_name(i)
    region = i.get("region") or "us-east-1"
    out = [("s3", "CreateBucket", compact({
        "Bucket": name, "ObjectLockEnabledForBucket": i.get("objectLockEnabled"),
        "CreateBucketConfiguration": None if region == "us-east-1" else {"LocationConstraint": region}}), True)]
    if i.get("tags"):
        out.append(("s3", "PutBucketTagging", {"Bucket": name, "Tagging": {"TagSet": tag_list(i.data["tags"])}}))
    return out


def _bucket_versioning(i: Inputs) -> list:
    return [("s3", "PutBucketVersioning", compact({
        "Bucket": i.get("bucket"), "ExpectedBucketOwner": i.get("expectedBucketOwner"), "MFA": i.get("mfa"),
        "VersioningConfiguration": pascal(i.get("versioningConfiguration"), {"mfaDelete": "MFADelete"})}), True)]


def _bucket_encryption(i: Inputs) -> list:
    rules = pascal(i.get("rules"), {"sseAlgorithm": "SSEAlgorithm", "kmsMasterKeyId": "KMSMasterKeyID"})
    return [("s3", "PutBucketEncryption", compact({
        "Bucket": i.get("bucket"), "ExpectedBucketOwner": i.get("expectedBucketOwner"),
        "ServerSideEncryptionConfiguration": {"Rules": rules}}), True)]


def _public_access_block(i: Inputs) -> list:
    i.provider_only("skipDestroy")
    keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    return [("s3", "PutPublicAccessBlock", {"Bucket": i.get("bucket"),
                                            "PublicAccessBlockConfiguration": pascal(compact({k: i.get(k) for k in keys}))},
             True)]


def _bucket_lifecycle(i: Inputs) -> list:
    rules = pascal(i.get("rules"), {"id": "ID", "and": "And"})
    return [("s3", "PutBucketLifecycleConfiguration", compact({
        "Bucket": i.get("bucket"), "ExpectedBucketOwner": i.get("expectedBucketOwner"),
        "TransitionDefaultMinimumObjectSize": i.get("transitionDefaultMinimumObjectSize"),
        "LifecycleConfiguration": {"Rules": rules}}), True)]


def _bucket_object(i: Inputs) -> list:
    i.provider_only("forceDestroy", "etag", "sourceHash", "overrideProvider")
    body = b""
    if i.get("content") is not None:
        body = str(i.data["content"]).encode()
    elif i.get("contentBase64") is not None:
        body = base64.b64decode(i.data["contentBase64"])
    i.get("source")      # an asset or archive: its bytes are the body
    keys = ("contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage", "metadata",
            "serverSideEncryption", "storageClass", "acl", "websiteRedirect", "kmsKeyId", "bucketKeyEnabled",
            "objectLockMode", "objectLockRetainUntilDate", "objectLockLegalHoldStatus", "checksumAlgorithm")
    renames = {"acl": "ACL", "kmsKeyId": "SSEKMSKeyId", "websiteRedirect": "WebsiteRedirectLocation",
               "metadata": "Metadata"}
    tags = i.get("tags")
    return [("s3", "PutObject", compact({
        "Bucket": i.get("bucket"), "Key": i.get("key"), "Body": body,
        **{renames.get(k, k[:1].upper() + k[1:]): v for k, v in compact({k: i.get(k) for k in keys}).items()},
        # S3 takes object tags as a URL query string (the SDK sends them encoded: an ARN's ':' and '/')
        "Tagging": urllib.parse.urlencode(tags) if tags else None}), True)]


def _bucket_policy(i: Inputs) -> list:
    return [("s3", "PutBucketPolicy", {"Bucket": i.get("bucket"), "Policy": i.get("policy")}, True)]


def _ownership_controls(i: Inputs) -> list:
    rule = i.get("rule") or {}
    return [("s3", "PutBucketOwnershipControls", {"Bucket": i.get("bucket"), "OwnershipControls": {
        "Rules": [pascal(rule)]}}, True)]


def _bucket_notification(i: Inputs) -> list:
    configuration = {}
    if i.get("eventbridge"):
        configuration["EventBridgeConfiguration"] = {}
    return [("s3", "PutBucketNotificationConfiguration", {"Bucket": i.get("bucket"),
                                                          "NotificationConfiguration": configuration}, True)]


# --- EFS -----------------------------------------------------------------------------------------

def _efs_file_system(i: Inputs) -> list:
    policies = i.get("lifecyclePolicies") or []
    lifecycle = [compact({"TransitionToIA": p.get("transitionToIa"),
                          "TransitionToPrimaryStorageClass": p.get("transitionToPrimaryStorageClass"),
                          "TransitionToArchive": p.get("transitionToArchive")}) for p in policies]
    out = [("efs", "CreateFileSystem", compact({
        # The provider generates a unique creation token when none is given.
        "CreationToken": i.get("creationToken") or "terraform-" + PREFIX_SUFFIX,
        "PerformanceMode": i.get("performanceMode"), "Encrypted": i.get("encrypted"), "KmsKeyId": i.get("kmsKeyId"),
        "ThroughputMode": i.get("throughputMode"),
        "ProvisionedThroughputInMibps": i.get("provisionedThroughputInMibps"),
        "AvailabilityZoneName": i.get("availabilityZoneName"), "Tags": tag_list(i.get("tags"))}), True)]
    if lifecycle:
        out.append(("efs", "PutLifecycleConfiguration", {"FileSystemId": i.resource.outputs.get("id"),
                                                         "LifecyclePolicies": lifecycle}))
    if i.get("protection"):
        out.append(("efs", "UpdateFileSystemProtection", {"FileSystemId": i.resource.outputs.get("id"),
                                                          **pascal(i.get("protection"))}))
    return out


def _efs_mount_target(i: Inputs) -> list:
    return [("efs", "CreateMountTarget", compact({
        "FileSystemId": i.get("fileSystemId"), "SubnetId": i.get("subnetId"), "IpAddress": i.get("ipAddress"),
        "Ipv6Address": i.get("ipv6Address"), "IpAddressType": i.get("ipAddressType"),
        "SecurityGroups": i.get("securityGroups")}), True)]


def _efs_access_point(i: Inputs) -> list:
    root = i.get("rootDirectory")
    return [("efs", "CreateAccessPoint", compact({
        "ClientToken": i.resource.name + AUTONAME_SUFFIX, "FileSystemId": i.get("fileSystemId"),
        "PosixUser": pascal(i.get("posixUser")) if i.get("posixUser") else None,
        "RootDirectory": pascal(root) if root else None, "Tags": tag_list(i.get("tags"))}), True)]


def _efs_backup_policy(i: Inputs) -> list:
    return [("efs", "PutBackupPolicy", {"FileSystemId": i.get("fileSystemId"),
                                        "BackupPolicy": pascal(i.get("backupPolicy"))}, True)]


def _efs_file_system_policy(i: Inputs) -> list:
    return [("efs", "PutFileSystemPolicy", compact({
        "FileSystemId": i.get("fileSystemId"), "Policy": i.get("policy"),
        "BypassPolicyLockoutSafetyCheck": i.get("bypassPolicyLockoutSafetyCheck")}), True)]


def _connection(i: Inputs) -> list:
    return [("codestar-connections", "CreateConnection", compact({
        "ConnectionName": i.get("name"), "ProviderType": i.get("providerType"), "HostArn": i.get("hostArn"),
        "Tags": tag_list(i.get("tags"))}), True)]
