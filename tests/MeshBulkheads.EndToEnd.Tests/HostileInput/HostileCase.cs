namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>What a hostile case attacks; a <see cref="Mix"/> combines several of the others.</summary>
public enum HostileCaseKind
{
    /// <summary>A well-formed call (the control: it must succeed, or be refused for the caller's identity).</summary>
    ValidControl,
    MalformedProtobuf,
    TruncatedMessage,
    PrefixLargerThanBody,
    PrefixSmallerThanBody,
    CompressedWithoutEncoding,
    UnknownEncoding,
    OversizedMessage,
    OversizedMetadata,
    RepeatedHeaders,
    ExtremeTimeout,
    MalformedTimeout,
    Http11,
    WrongContentType,
    GetRequest,
    UnknownPath,
    CaseVariantPath,
    ForgedIdentity,
    BogusCredentials,
    Mix,
}

/// <summary>The outcomes a case may end in: gRPC statuses, HTTP statuses without a gRPC answer, or a transport error.</summary>
public sealed class HostileExpectation
{
    /// <summary>Acceptable <c>grpc-status</c> codes (Trailers-Only headers or trailers of an HTTP 200 gRPC response).</summary>
    public HashSet<StatusCode> Grpc { get; } = [];

    /// <summary>Acceptable HTTP statuses other than 200 (the call never became a gRPC call, e.g. 415 or 431).</summary>
    public HashSet<int> Http { get; } = [];

    /// <summary>Whether the exchange may end in a reset, GOAWAY or a closed connection (protocol violations only).</summary>
    public bool TransportErrorAllowed { get; set; }

    /// <summary>Adds every outcome of <paramref name="other"/> (a mix may end in any of its parts' outcomes).</summary>
    public void UnionWith(HostileExpectation other)
    {
        Grpc.UnionWith(other.Grpc);
        Http.UnionWith(other.Http);
        TransportErrorAllowed |= other.TransportErrorAllowed;
    }

    public override string ToString() =>
        $"grpc [{string.Join(", ", Grpc.Order())}] http [{string.Join(", ", Http.Order())}]{(TransportErrorAllowed ? " or a transport error" : string.Empty)}";
}

/// <summary>One request, byte for byte, with the outcomes the oracle accepts for it.</summary>
public sealed class HostileCase
{
    public required int Index { get; init; }

    public required HostileCaseKind Kind { get; init; }

    /// <summary>The parts of a <see cref="HostileCaseKind.Mix"/>, or the kind alone.</summary>
    public required IReadOnlyList<HostileCaseKind> Parts { get; init; }

    /// <summary>A short account of what was generated (shown on failure).</summary>
    public required string Description { get; init; }

    /// <summary>The request target as sent (<c>:path</c>), possibly not a method.</summary>
    public required string Path { get; init; }

    public HttpMethod HttpMethod { get; init; } = HttpMethod.Post;

    /// <summary>2.0 (h2c prior knowledge) or 1.1.</summary>
    public Version Version { get; init; } = System.Net.HttpVersion.Version20;

    /// <summary>The <c>content-type</c> sent, or null for none.</summary>
    public string? ContentType { get; init; } = "application/grpc";

    /// <summary>Request header fields in order; a name may repeat (sent as separate fields, see the runner).</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }

    /// <summary>The whole request body: gRPC frames (or not).</summary>
    public required byte[] Body { get; init; }

    public required HostileExpectation Expected { get; init; }

    /// <summary>Values a caller chose (unknown paths, keys, tokens) that must never become a metric label.</summary>
    public required IReadOnlyList<string> FuzzedValues { get; init; }

    /// <summary>Whether the case needs a connection of its own (it may end the connection: HTTP/1.1, header floods).</summary>
    public bool NeedsOwnConnection => Parts.Any(p => p is HostileCaseKind.Http11 or HostileCaseKind.OversizedMetadata);

    public override string ToString()
    {
        var headers = string.Join("; ", Headers.Select(h => $"{h.Key}: {Abbreviate(h.Value)}"));
        var body = Body.Length <= 48 ? Convert.ToHexString(Body) : $"{Convert.ToHexString(Body.AsSpan(0, 48))}… ({Body.Length} bytes)";
        return $"#{Index} {Kind}({string.Join("+", Parts)}): {Description} | {HttpMethod} {Abbreviate(Path)} HTTP/{Version} content-type={ContentType ?? "(none)"} | {headers} | body {body} | expected {Expected}";
    }

    private static string Abbreviate(string value) => value.Length <= 80 ? value : $"{value[..60]}…({value.Length} chars)";
}
