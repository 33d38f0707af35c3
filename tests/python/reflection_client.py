"""A client that knows nothing of dangan's .proto files: it discovers the API
through gRPC server reflection, builds the message classes at run time and
calls ListSites and SearchDossiers. Usage: reflection_client.py ADDR TOKEN NAME
Prints one JSON object."""

import collections
import json
import sys

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


class _Details(
    collections.namedtuple("_Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds the bearer token: reflection, like every call but health, needs it."""

    def __init__(self, token):
        self._md = ("authorization", f"Bearer {token}")

    def _with_token(self, d):
        md = list(d.metadata or []) + [self._md]
        return _Details(d.method, d.timeout, md, d.credentials, d.wait_for_ready, d.compression)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)


def call(channel, pool, service, method, **fields):
    svc = pool.FindServiceByName(service)
    m = svc.methods_by_name[method]
    req_cls = message_factory.GetMessageClass(m.input_type)
    resp_cls = message_factory.GetMessageClass(m.output_type)
    stub = channel.unary_unary(
        f"/{svc.full_name}/{m.name}", request_serializer=req_cls.SerializeToString, response_deserializer=resp_cls.FromString
    )
    return stub(req_cls(**fields), timeout=10)


def main():
    addr, token, name = sys.argv[1], sys.argv[2], sys.argv[3]
    plain = grpc.insecure_channel(addr)
    channel = grpc.intercept_channel(plain, BearerToken(token))
    db = ProtoReflectionDescriptorDatabase(channel)
    services = sorted(db.get_services())
    pool = DescriptorPool(db)
    sites = call(channel, pool, "dangan.archive.v1.SiteService", "ListSites")
    found = call(channel, pool, "dangan.archive.v1.DossierService", "SearchDossiers", customer_name=name)
    # Without the token the same call is refused.
    try:
        svc = pool.FindServiceByName("dangan.archive.v1.SiteService")
        m = svc.methods_by_name["ListSites"]
        req = message_factory.GetMessageClass(m.input_type)
        plain.unary_unary(f"/{svc.full_name}/ListSites", request_serializer=req.SerializeToString)(req(), timeout=10)
        refused = "OK"
    except grpc.RpcError as e:
        refused = e.code().name
    print(
        json.dumps(
            {
                "services": services,
                "sites": [f"{s.org_code}-{s.site_code}" for s in sites.sites],
                "dossiers": [d.archive_number for d in found.dossiers],
                "unauthenticated": refused,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
