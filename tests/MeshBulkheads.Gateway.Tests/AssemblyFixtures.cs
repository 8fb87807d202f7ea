using MeshBulkheads.Testing.Redis;

// One private redis-server for the whole run; tests isolate themselves with their own key prefix.
[assembly: AssemblyFixture(typeof(RedisFixture))]
