"""Prepares the emulator for the live demo: the example accounts' network, the desired-state
bucket with the example topologies, and the controller config. Run by scripts/demo."""

import argparse
import pathlib
import re

import boto3

EXAMPLE_IDS = {
    "vpc": "vpc-0a1b2c3d4e5f60718",
    "subnet_a": "subnet-0a1b2c3d4e5f60711",
    "subnet_b": "subnet-0a1b2c3d4e5f60712",
    "endpoint_sg": "sg-0a1b2c3d4e5f60713",
    "route_table": "rtb-0a1b2c3d4e5f60714",
    "service_sg": "sg-0a1b2c3d4e5f60715",
    "server_vpc": "vpc-0a1b2c3d4e5f60811",
    "server_route_table": "rtb-0a1b2c3d4e5f60812",
    "client_vpc": "vpc-0b1b2c3d4e5f60821",
    "client_route_table": "rtb-0b1b2c3d4e5f60822",
}
WORKLOADS = "333333333333"
REGION = "eu-west-1"
# The cross-account Service Connect topology of examples/service-connect/.
SERVER = "111111111111"
CLIENT = "222222222222"
SERVICE_CONNECT_REGION = "ap-northeast-1"

# The existing ECS services of the Service Connect example (its bindings' services), by account:
# (cluster, service). Their own stacks make them; ecs-topology only binds them.
BOUND_SERVICES = {
    "111111111111": ("server-cluster", "sample-ecs-app"),
    "222222222222": ("client-cluster", "client-service"),
}


def session_in(account: str, region: str) -> boto3.Session:
    sts = boto3.client("sts", region_name=region)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/demo-setup", RoleSessionName="demo")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def private_network() -> dict:
    """A VPC with only private subnets, as the examples describe it; returns the real ids."""
    ec2 = session_in(WORKLOADS, REGION).client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZone=f"{REGION}b")["Subnet"]["SubnetId"]
    endpoints = ec2.create_security_group(GroupName="vpc-endpoints", Description="HTTPS from the task subnets", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=endpoints,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}],
    )
    services = ec2.create_security_group(GroupName="checkout", Description="Checkout tasks", VpcId=vpc)["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for subnet in (a, b):
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return {"vpc": vpc, "subnet_a": a, "subnet_b": b, "endpoint_sg": endpoints, "route_table": table, "service_sg": services}


def peered_networks() -> dict:
    """The server VPC (10.0.0.0/16) and the client VPC (172.31.0.0/16) of the reference topology,
    each with DNS support and host names and one route table; returns the real ids."""
    real = {}
    for side, account, cidr in (("server", SERVER, "10.0.0.0/16"), ("client", CLIENT, "172.31.0.0/16")):
        ec2 = session_in(account, SERVICE_CONNECT_REGION).client("ec2")
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        real[f"{side}_vpc"] = vpc
        real[f"{side}_route_table"] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    return real


def bound_services() -> None:
    """The services the Service Connect bindings name, as their stacks would make them: a
    cluster, a task definition whose container offers the port `app`, the service, marked
    adoptable for the controller's first claim."""
    for account, (cluster, service) in BOUND_SERVICES.items():
        ecs = session_in(account, SERVICE_CONNECT_REGION).client("ecs")
        ecs.create_cluster(clusterName=cluster)
        ecs.register_task_definition(
            family=service,
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "public.ecr.aws/nginx/nginx:latest",
                    "memory": 512,
                    "portMappings": [{"containerPort": 80, "name": "app"}],
                }
            ],
        )
        ecs.create_service(
            cluster=cluster,
            serviceName=service,
            taskDefinition=service,
            desiredCount=1,
            tags=[{"key": "ecs-topology.dev/adoptable", "value": "true"}],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--metrics", required=True)
    args = parser.parse_args()
    work = pathlib.Path(args.work)

    real = private_network() | peered_networks()
    bound_services()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=args.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    examples = pathlib.Path(args.examples)
    published = []
    for path in sorted(examples.rglob("*.yaml")):
        relative = path.relative_to(examples)
        if relative.parts[0] == "invalid" or path.name == "ecs-topology.config.yaml":
            continue
        text = path.read_text()
        for name, example_id in EXAMPLE_IDS.items():
            text = text.replace(example_id, real[name])
        s3.put_object(Bucket=args.bucket, Key=f"topology/{relative}", Body=text.encode())
        published.append(str(relative))

    config = (examples / "ecs-topology.config.yaml").read_text()
    config = re.sub(r"pollInterval: .*", "pollInterval: 5s", config)
    config += (
        f"status: {{directory: '{work / 'status'}'}}\n"
        f"metricsAddress: 127.0.0.1:{args.metrics}\n"
        "rateBudgets:\n"
        "  ec2:vpc-endpoint-mutate: {burst: 20, refillPerSecond: 5}\n"
    )
    (work / "config.yaml").write_text(config)
    print(f"published {len(published)} files to s3://{args.bucket}/topology/: {', '.join(published)}")
    print(f"workloads VPC {real['vpc']}: subnets {real['subnet_a']}, {real['subnet_b']}; endpoint security group {real['endpoint_sg']}")


if __name__ == "__main__":
    main()
