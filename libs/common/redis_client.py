"""Redis client factories: every process builds its Redis clients here.

The socket timeout must exceed the XREADGROUP BLOCK time.

``REDIS_URL`` names one server (``redis://host:port/db``) or a Redis Cluster
(``redis+cluster://host:port[,host:port...]``: seed nodes, the rest is discovered).
On a cluster the factories return redis-py's own ``RedisCluster`` (slot routing,
MOVED/ASK, failover re-discovery); it offers the same command methods, so the callers
keep their ``redis.Redis`` annotations. What a cluster asks of callers: keys of one
command, MULTI or script share a hash tag; pipelines are not transactions unless asked
(and then on one slot).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

_RETRYABLE = (redis.ConnectionError, redis.TimeoutError)
CLUSTER_SCHEME = "redis+cluster"


def is_cluster_url(url: str) -> bool:
    return url.startswith(f"{CLUSTER_SCHEME}://")


def cluster_seeds(url: str) -> list[tuple[str, int]]:
    """``redis+cluster://a:7000,b:7001`` -> [("a", 7000), ("b", 7001)]."""
    netloc = urlsplit(url).netloc.rsplit("@", 1)[-1]
    seeds = []
    for part in netloc.split(","):
        host, _, port = part.strip().rpartition(":")
        seeds.append((host or "127.0.0.1", int(port or 6379)))
    return seeds


def _password(url: str) -> str | None:
    return urlsplit(url.split(",", 1)[0]).password


def make_redis(url: str, *, block_ms: int = 2000) -> redis.Redis:
    common: dict[str, Any] = {
        "socket_timeout": block_ms / 1000 + 5,
        "socket_connect_timeout": 3,
        "health_check_interval": 30,
    }
    if is_cluster_url(url):
        return cast(redis.Redis, make_cluster(url, **common))
    return redis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=2, base=0.05), 3),
        retry_on_error=list(_RETRYABLE),
        **common,
    )


def stream_read_keys(args: tuple[Any, ...]) -> list[Any] | None:
    """The keys of ``XREAD``/``XREADGROUP ... STREAMS k1 k2 id1 id2`` (None: another
    command)."""
    name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    if name.upper() not in ("XREAD", "XREADGROUP"):
        return None
    words = [a.decode().upper() if isinstance(a, bytes) else str(a).upper() for a in args]
    rest = args[words.index("STREAMS") + 1 :]
    return list(rest[: len(rest) // 2])


class _SyncKeys:
    """redis-py asks a server (``COMMAND GETKEYS``, on its "default node") for the keys
    of commands whose keys move, such as XREADGROUP. When that node is the master just
    killed, every stream read fails for good, failover or not; so the keys of stream
    reads are read here, and the rest still go to redis-py."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def get_keys(self, redis_conn: Any, *args: Any) -> Any:
        keys = stream_read_keys(args)
        return keys if keys is not None else self._inner.get_keys(redis_conn, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _AsyncKeys(_SyncKeys):
    async def get_keys(self, *args: Any) -> Any:
        keys = stream_read_keys(args)
        return keys if keys is not None else await self._inner.get_keys(*args)


def make_cluster(url: str, **kwargs: Any) -> RedisCluster:
    """A cluster client whose retries outlast a failover (node timeout + election)."""
    client = RedisCluster(
        startup_nodes=[
            ClusterNode(host, port)  # type: ignore[no-untyped-call]
            for host, port in cluster_seeds(url)
        ],
        password=_password(url),
        retry=Retry(ExponentialBackoff(cap=1, base=0.1), 12),
        **kwargs,
    )
    client.commands_parser = _SyncKeys(client.commands_parser)  # type: ignore[assignment]
    return client


def make_async_redis(url: str) -> aioredis.Redis:
    # The asyncio client needs the asyncio Retry: given the sync one, a connection
    # dropped by a Redis restart surfaces as an error instead of a reconnect.
    if is_cluster_url(url):
        cluster = AsyncRedisCluster(
            startup_nodes=[AsyncClusterNode(host, port) for host, port in cluster_seeds(url)],
            password=_password(url),
            socket_timeout=10,
            socket_connect_timeout=3,
            health_check_interval=30,
            retry=AsyncRetry(ExponentialBackoff(cap=1, base=0.1), 12),
        )
        cluster.commands_parser = _AsyncKeys(cluster.commands_parser)  # type: ignore[assignment]
        return cast(aioredis.Redis, cluster)
    return aioredis.Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=3,
        health_check_interval=30,
        retry=AsyncRetry(ExponentialBackoff(cap=2, base=0.05), 3),
        retry_on_error=list(_RETRYABLE),
    )


def is_cluster(client: object) -> bool:
    """Whether ``client`` talks to a Redis Cluster (some commands differ there)."""
    return isinstance(client, RedisCluster | AsyncRedisCluster)


def node_of(client: redis.Redis, key: str) -> str:
    """``host:port`` of the server that holds ``key`` (the master of its slot)."""
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(key)
        return f"{node.host}:{node.port}"
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
