using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using MeshBulkheads.Gateway.Policy;

namespace MeshBulkheads.Gateway.RateLimiting.Internal;

/// <summary>
/// A <see cref="PartitionedRateLimiter{TResource}"/> by client source: one <see cref="TokenBucket"/> per address (an IPv6
/// address by its /64, which one host usually owns whole), at most <see cref="MaxSources"/> of them. When a new source would
/// pass the cap, the least recently used one is dropped; it starts again with a full bucket if it comes back.
/// </summary>
/// <remarks>
/// <para><see cref="PartitionedRateLimiter.Create{TResource, TPartitionKey}"/> keeps every partition until it has been idle
/// for a while, however many there are, and its token buckets refill on a wall-clock timer: a flood from many addresses
/// would grow it without bound, and tests could not drive it with a fake clock. This keeps the same contract with the
/// gateway's timer-free <see cref="TokenBucket"/> (refilled by <see cref="TimeProvider"/> time) and a hard bound.</para>
/// <para>Dropping the least recently used source is what the bound costs: a client rotating through more addresses than the
/// cap gets a fresh burst per address per rotation. An idle source loses nothing (its bucket would be full again).</para>
/// </remarks>
internal sealed class SourcePartitionedRateLimiter : PartitionedRateLimiter<IPAddress?>
{
    private static readonly RateLimitLease Acquired = new Lease(true, null);

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, LinkedListNode<Partition>> _partitions = [];
    // Most recently used first.
    private readonly LinkedList<Partition> _order = new();
    private readonly TokenBucketLimit _limit;
    private readonly TimeProvider _timeProvider;

    public SourcePartitionedRateLimiter(TokenBucketLimit limit, int maxSources, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSources);
        _limit = limit;
        MaxSources = maxSources;
        _timeProvider = timeProvider;
    }

    /// <summary>The most sources tracked at once.</summary>
    public int MaxSources { get; }

    /// <summary>The sources tracked now (never more than <see cref="MaxSources"/>).</summary>
    public int PartitionCount
    {
        get
        {
            lock (_lock)
            {
                return _partitions.Count;
            }
        }
    }

    /// <summary>The partition of <paramref name="address"/>: IPv4 (also when IPv4-mapped) as is, IPv6 by its /64; none → one shared partition.</summary>
    public static IPAddress PartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return IPAddress.None;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    /// <summary>Takes one token of <paramref name="source"/>'s bucket, or says how long until it has one.</summary>
    public RateLimitDecision TryAcquire(IPAddress? source, int cost = 1) => BucketOf(source).TryAcquire(cost);

    public override RateLimiterStatistics? GetStatistics(IPAddress? resource) => null;

    protected override RateLimitLease AttemptAcquireCore(IPAddress? resource, int permitCount)
    {
        var decision = TryAcquire(resource, permitCount);
        return decision.Allowed ? Acquired : new Lease(false, decision.RetryAfter);
    }

    // No queue: a call failing authentication is answered at once either way.
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(IPAddress? resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    private TokenBucket BucketOf(IPAddress? source)
    {
        var key = PartitionKey(source);
        lock (_lock)
        {
            if (_partitions.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                return node.Value.Bucket;
            }

            if (_partitions.Count >= MaxSources)
            {
                var oldest = _order.Last!;
                _order.RemoveLast();
                _partitions.Remove(oldest.Value.Key);
            }

            node = _order.AddFirst(new Partition(key, new TokenBucket(_limit, _timeProvider)));
            _partitions.Add(key, node);
            Debug.Assert(_partitions.Count <= MaxSources && _order.Count == _partitions.Count, "the partitions stay within the cap");
            return node.Value.Bucket;
        }
    }

    private sealed record Partition(IPAddress Key, TokenBucket Bucket);

    private sealed class Lease(bool isAcquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => isAcquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } value && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = value;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
