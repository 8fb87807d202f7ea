using System.Buffers.Binary;
using MeshBulkheads.Concurrency.Rejections;
using System.Text;

namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>
/// Generates hostile gRPC requests for one port, each with the outcomes the oracle accepts. Case <c>i</c> of a seed is
/// a pure function of (seed, port, i), so any case replays alone. The first <see cref="ExplicitShare"/> of the cases
/// go round-robin through every single <see cref="HostileCaseKind"/>; the rest are random mixes of two or three.
/// </summary>
/// <remarks>
/// System.Random with a seed rather than CsCheck: every case is built together with its expected outcomes (which
/// depend on exactly which defects were combined), the cases run over real sockets where shrinking would cost a
/// mesh round-trip per step, and a printed seed plus a case number already pins a failure down to one request.
/// <c>new Random(int)</c> is the seeded legacy algorithm, stable across runtimes, so a seed replays anywhere.
/// </remarks>
public sealed class HostileFrameGenerator(int seed, HostileTarget target)
{
    /// <summary>The marker in every caller-chosen name and value, so a metric label made from one is easy to find.</summary>
    public const string Marker = "zzfuzz";

    /// <summary>The share of cases that exercise one kind alone (the others are mixes).</summary>
    public const double ExplicitShare = 0.6;

    private static readonly HostileCaseKind[] Singles = [.. Enum.GetValues<HostileCaseKind>().Where(k => k != HostileCaseKind.Mix)];

    // The parts a mix draws from (HTTP/1.1 is rare in mixes: it makes every other part moot).
    private static readonly HostileCaseKind[] Mixable = [.. Singles.Where(k => k is not HostileCaseKind.ValidControl and not HostileCaseKind.Http11)];

    private static readonly HostileCaseKind[] BodyKinds =
    [
        HostileCaseKind.MalformedProtobuf, HostileCaseKind.TruncatedMessage, HostileCaseKind.PrefixLargerThanBody,
        HostileCaseKind.PrefixSmallerThanBody, HostileCaseKind.CompressedWithoutEncoding, HostileCaseKind.UnknownEncoding,
        HostileCaseKind.OversizedMessage, HostileCaseKind.GetRequest,
    ];

    // Parts that write the same headers (grpc-timeout, the credentials, grpc-encoding): at most one of them per mix,
    // or the last would overwrite what an earlier one expected.
    private static readonly HostileCaseKind[] HeaderKinds =
    [
        HostileCaseKind.MalformedTimeout, HostileCaseKind.ExtremeTimeout, HostileCaseKind.RepeatedHeaders,
    ];

    private static readonly StatusCode[] Identity = [StatusCode.Unauthenticated];

    public HostileTarget Target => target;

    public int Seed => seed;

    /// <summary>The cases 0..count-1.</summary>
    public IEnumerable<HostileCase> Generate(int count)
    {
        var explicitCount = (int)(count * ExplicitShare);
        for (var i = 0; i < count; i++)
        {
            yield return Generate(i, i < explicitCount ? Singles[i % Singles.Length] : HostileCaseKind.Mix);
        }
    }

    /// <summary>Case <paramref name="index"/> of kind <paramref name="kind"/> (replay: the same arguments, the same bytes).</summary>
    public HostileCase Generate(int index, HostileCaseKind kind)
    {
        var random = new Random(CaseSeed(seed, target.Ordinal, index));
        var method = target.Methods[random.Next(target.Methods.Count)];
        var draft = new Draft(target, method, random);
        IReadOnlyList<HostileCaseKind> parts = kind == HostileCaseKind.Mix ? PickMix(random) : [kind];
        foreach (var part in parts)
        {
            draft.BeginPart();
            Apply(part, draft);
            draft.EndPart();
        }

        return draft.Build(index, kind, parts);
    }

    /// <summary>SplitMix-style mixing: neighbouring seeds and indexes give unrelated streams.</summary>
    public static int CaseSeed(int seed, int ordinal, int index)
    {
        var x = unchecked(((ulong)(uint)seed << 32) ^ ((ulong)(uint)ordinal << 24) ^ (uint)index) + 0x9E3779B97F4A7C15UL;
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return unchecked((int)(x ^ (x >> 31)));
    }

    private static List<HostileCaseKind> PickMix(Random random)
    {
        var parts = new List<HostileCaseKind>();
        var wanted = random.Next(2, 4);
        while (parts.Count < wanted)
        {
            var next = random.Next(50) == 0 ? HostileCaseKind.Http11 : Mixable[random.Next(Mixable.Length)];
            // One body shape per case (two would overwrite each other), each part once.
            if (parts.Contains(next) || (BodyKinds.Contains(next) && parts.Exists(BodyKinds.Contains))
                || (HeaderKinds.Contains(next) && parts.Exists(HeaderKinds.Contains))
                || (next == HostileCaseKind.RepeatedHeaders && parts.Exists(p => p is HostileCaseKind.BogusCredentials or HostileCaseKind.UnknownEncoding or HostileCaseKind.CompressedWithoutEncoding))
                || (next is HostileCaseKind.BogusCredentials or HostileCaseKind.UnknownEncoding or HostileCaseKind.CompressedWithoutEncoding && parts.Contains(HostileCaseKind.RepeatedHeaders)))
            {
                continue;
            }

            parts.Add(next);
        }

        return parts;
    }

    private static void Apply(HostileCaseKind kind, Draft d)
    {
        switch (kind)
        {
            case HostileCaseKind.ValidControl: ValidControl(d); break;
            case HostileCaseKind.MalformedProtobuf: MalformedProtobuf(d); break;
            case HostileCaseKind.TruncatedMessage: TruncatedMessage(d); break;
            case HostileCaseKind.PrefixLargerThanBody: PrefixLargerThanBody(d); break;
            case HostileCaseKind.PrefixSmallerThanBody: PrefixSmallerThanBody(d); break;
            case HostileCaseKind.CompressedWithoutEncoding: CompressedWithoutEncoding(d); break;
            case HostileCaseKind.UnknownEncoding: UnknownEncoding(d); break;
            case HostileCaseKind.OversizedMessage: OversizedMessage(d); break;
            case HostileCaseKind.OversizedMetadata: OversizedMetadata(d); break;
            case HostileCaseKind.RepeatedHeaders: RepeatedHeaders(d); break;
            case HostileCaseKind.ExtremeTimeout: ExtremeTimeout(d); break;
            case HostileCaseKind.MalformedTimeout: MalformedTimeout(d); break;
            case HostileCaseKind.Http11: Http11(d); break;
            case HostileCaseKind.WrongContentType: WrongContentType(d); break;
            case HostileCaseKind.GetRequest: GetRequest(d); break;
            case HostileCaseKind.UnknownPath: UnknownPath(d); break;
            case HostileCaseKind.CaseVariantPath: CaseVariantPath(d); break;
            case HostileCaseKind.ForgedIdentity: ForgedIdentity(d); break;
            case HostileCaseKind.BogusCredentials: BogusCredentials(d); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static void ValidControl(Draft d)
    {
        d.Note("valid call");
        d.PassesThrough();
    }

    private static void MalformedProtobuf(Draft d)
    {
        var r = d.Random;
        byte[] message;
        string what;
        switch (r.Next(10))
        {
            case 0: (message, what) = ([0x0F, .. Bytes(r, 0, 8)], "wire type 7"); break;
            case 1: (message, what) = ([0x0E, 0x01], "wire type 6"); break;
            case 2: (message, what) = ([0x00, 0x01], "field number 0"); break;
            case 3: (message, what) = ([0x08, .. Enumerable.Repeat((byte)0xFF, r.Next(1, 9))], "varint without its last byte"); break;
            case 4: (message, what) = ([0x08, .. Enumerable.Repeat((byte)0xFF, 10), 0x01], "11-byte varint"); break;
            case 5: (message, what) = ([0x0A, (byte)r.Next(10, 127), .. Bytes(r, 0, 8)], "length-delimited field longer than the message"); break;
            case 6: (message, what) = ([0x0C], "end-group without a start"); break;
            case 7: (message, what) = ([0x0B, .. Bytes(r, 0, 4).Where(b => b != 0x0C)], "group never closed"); break;
            case 8: (message, what) = ([.. Enumerable.Repeat((byte)0x0B, r.Next(101, 400))], "groups nested past the recursion limit"); break;
            default: (message, what) = ([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, .. Bytes(r, 0, 16)], "length-delimited field of 4 GB"); break;
        }

        d.Message(message, what);
    }

    private static void TruncatedMessage(Draft d)
    {
        var r = d.Random;
        var valid = d.Method.Valid(r);
        // A valid message cut short; if the cut lands on a field boundary the prefix still parses (then the handler runs).
        var cut = valid.Length <= 1 ? 0 : r.Next(1, valid.Length);
        d.Message(valid[..cut], $"valid {valid.Length}-byte message cut to {cut} bytes");
    }

    private static void PrefixLargerThanBody(Draft d)
    {
        var r = d.Random;
        var valid = d.Method.Valid(r);
        if (r.Next(4) == 0)
        {
            // The 5-byte frame header itself cut short (0 bytes: an empty body).
            var frame = Frame(0, valid);
            var keep = r.Next(0, 5);
            d.Body(frame[..keep], $"frame header cut to {keep} bytes");
            d.Expect(StatusCode.Internal);
            return;
        }

        var claimed = (uint)valid.Length + (uint)(r.Next(3) switch
        {
            0 => r.Next(1, 8),
            1 => r.Next(8, 1000),
            _ => r.Next(1000, 1 << 20),
        });
        d.Body(Frame(0, valid, claimed), $"length prefix {claimed} for {valid.Length} bytes");
        // grpc-dotnet: "Incomplete message." (INTERNAL) at the end of the body, or RESOURCE_EXHAUSTED from the prefix alone.
        d.Expect(claimed > d.Method.MessageLimit ? StatusCode.ResourceExhausted : StatusCode.Internal);
    }

    private static void PrefixSmallerThanBody(Draft d)
    {
        var r = d.Random;
        var valid = d.Method.Valid(r);
        if (r.Next(2) == 0)
        {
            // A whole frame, then more bytes: junk or a second frame.
            var extra = r.Next(2) == 0 ? Bytes(r, 1, 64) : Frame(0, d.Method.Valid(r));
            d.Body([.. Frame(0, valid), .. extra], $"a complete frame followed by {extra.Length} more bytes");
            d.Expect(StatusCode.Internal);
            return;
        }

        var claimed = valid.Length <= 1 ? 0 : r.Next(0, valid.Length);
        d.Body(Frame(0, valid, (uint)claimed), $"length prefix {claimed} for {valid.Length} bytes");
        // The first message is the prefix's bytes (which may not parse); the rest is "Additional data" (INTERNAL).
        d.Expect(StatusCode.Internal);
        if (!d.Method.Parses(valid[..claimed]))
        {
            d.ExpectParseError();
        }
    }

    private static void CompressedWithoutEncoding(Draft d)
    {
        var r = d.Random;
        var flag = r.Next(4) == 0 ? (byte)r.Next(2, 256) : (byte)1;
        d.Body(Frame(flag, r.Next(2) == 0 ? d.Method.Valid(r) : Bytes(r, 0, 64)), $"compressed flag {flag}, no grpc-encoding");
        d.Remove("grpc-encoding");
        // grpc-dotnet: "Request did not include grpc-encoding value with compressed message." (INTERNAL); a flag
        // other than 0 or 1 is a framing error (INTERNAL as well).
        d.Expect(StatusCode.Internal);
    }

    private static void UnknownEncoding(Draft d)
    {
        var r = d.Random;
        string[] encodings = ["gzip", "deflate", "br", "snappy", "zstd", "GZIP", $"{Marker}-enc{r.Next(1000)}", "identity"];
        var encoding = encodings[r.Next(encodings.Length)];
        d.Set("grpc-encoding", encoding);
        if (encoding.Contains(Marker, StringComparison.Ordinal))
        {
            d.Fuzzed(encoding);
        }

        d.Body(Frame(1, Bytes(r, 0, 64)), $"compressed message, grpc-encoding {encoding}");
        // The mesh accepts no request compression (ServiceDefaults clears the providers): UNIMPLEMENTED naming the
        // supported encodings (gRPC compression spec); 'identity' with the compressed flag is INTERNAL in grpc-dotnet.
        d.Expect(encoding == "identity" ? StatusCode.Internal : StatusCode.Unimplemented);
    }

    private static void OversizedMessage(Draft d)
    {
        var r = d.Random;
        var limit = d.Method.MessageLimit;
        if (r.Next(4) == 0)
        {
            // Only the prefix is huge; the body stays small.
            uint[] claims = [0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, (uint)limit + 1, (uint)(limit * 16)];
            var claim = claims[r.Next(claims.Length)];
            d.Body(Frame(0, Bytes(r, 0, 32), claim), $"length prefix {claim} (limit {limit}), small body");
        }
        else
        {
            var size = limit + r.Next(1, 4097);
            var message = new byte[size];
            // Field 15 (unknown), length-delimited over the whole message: it would parse if it were allowed in.
            r.NextBytes(message);
            d.Body(Frame(0, message), $"{size}-byte message (limit {limit})");
        }

        d.Expect(StatusCode.ResourceExhausted);
    }

    private static void OversizedMetadata(Draft d)
    {
        var r = d.Random;
        switch (r.Next(3))
        {
            case 0:
            {
                var count = r.Next(101, 400);
                for (var i = 0; i < count; i++)
                {
                    d.Add($"x-{Marker}-pad-{i}", Ascii(r, 1, 40));
                }

                d.Note($"{count} extra headers");
                break;
            }

            case 1:
            {
                var size = r.Next(8 * 1024, 40 * 1024);
                d.Add($"x-{Marker}-huge", new string('a', size));
                d.Note($"one {size}-character header");
                break;
            }

            default:
            {
                var count = r.Next(10, 40);
                for (var i = 0; i < count; i++)
                {
                    d.Add($"x-{Marker}-wide-{i}", new string((char)('a' + (i % 26)), r.Next(1000, 4000)));
                }

                d.Note($"{count} headers of 1-4 KB");
                break;
            }
        }

        // Within Kestrel's limits the call goes on; past them 431, or a reset/GOAWAY (a header block the server
        // advertised it would not take is a protocol violation; HttpClient may even refuse to send it).
        d.ExpectHttp(431);
        d.Expect(StatusCode.Internal);
        if (d.Target.IsGateway)
        {
            // A block the gateway could not forward with what it adds (MeshRequestLimits): RESOURCE_EXHAUSTED
            // request-headers-too-large from the gateway itself, never UNAVAILABLE from the forwarder.
            d.Expect(StatusCode.ResourceExhausted);
        }

        d.AllowTransportError();
        d.PassesThrough();
    }

    private static void RepeatedHeaders(Draft d)
    {
        var r = d.Random;
        string[] names = d.Target.IsGateway
            ? ["grpc-timeout", "x-api-key", "x-tenant-id", "x-mesh-criticality", "grpc-encoding", "te", "user-agent"]
            : ["grpc-timeout", "x-tenant-id", "x-api-key", "x-mesh-criticality", "grpc-encoding", "te", "user-agent"];
        var name = names[r.Next(names.Length)];
        var (first, second) = name switch
        {
            "grpc-timeout" => ("5S", r.Next(2) == 0 ? "5S" : "2S"),
            "x-api-key" => (DemoKey(r), DemoKey(r)),
            "x-tenant-id" => (DemoTenant(r), DemoTenant(r)),
            "x-mesh-criticality" => ("critical", "sheddable"),
            "grpc-encoding" => ("identity", "identity"),
            "te" => ("trailers", "trailers"),
            _ => ($"{Marker}-agent/1", $"{Marker}-agent/2"),
        };
        d.Set(name, first);
        d.Add(name, second);
        d.Note($"{name} sent twice");
        switch (name)
        {
            case "grpc-timeout":
                // Sent more than once is malformed (DeadlineResolver); the gateway and the services agree.
                d.Expect(StatusCode.InvalidArgument);
                break;
            case "x-api-key" when d.Target.IsGateway:
                d.Expect(StatusCode.Unauthenticated, StatusCode.ResourceExhausted);
                break;
            case "x-tenant-id" when !d.Target.IsGateway:
                d.Expect(StatusCode.InvalidArgument, StatusCode.Unauthenticated);
                d.PassesThrough();
                break;
            case "x-mesh-criticality":
                d.Expect(StatusCode.InvalidArgument);
                d.PassesThrough();
                break;
            case "grpc-encoding":
                // 'identity,identity' is no encoding grpc-dotnet knows: refused when a message is compressed.
                d.Expect(StatusCode.Unimplemented, StatusCode.Internal);
                d.PassesThrough();
                break;
            default:
                d.PassesThrough();
                break;
        }
    }

    private static void ExtremeTimeout(Draft d)
    {
        var r = d.Random;
        string[] values = ["99999999H", "99999999M", "99999999S", "99999999m", "99999999u", "99999999n", "00000001S", "1n", "1u", "1m", "10000000H"];
        var value = values[r.Next(values.Length)];
        d.Set("grpc-timeout", value);
        d.Note($"grpc-timeout {value}");
        // Valid: clamped to the method's Max, or too short to start (DEADLINE_EXCEEDED before any work).
        d.Expect(StatusCode.DeadlineExceeded);
        d.PassesThrough();
    }

    private static void MalformedTimeout(Draft d)
    {
        var r = d.Random;
        string[] nonPositive = ["0n", "0S", "0H", "-1S", "-0m", "-99999999H", "00000000m"];
        string[] malformed = ["1x", "123456789S", "999999999H", string.Empty, "S", "1", "1.5S", "+1S", "1s", "1h", "0x10S", "1SS", "--1S", "-", "1 S", "99999999999999999999H", "1e3m"];
        if (r.Next(3) == 0)
        {
            var value = nonPositive[r.Next(nonPositive.Length)];
            d.Set("grpc-timeout", value);
            d.Note($"grpc-timeout {value} (no time left)");
            d.Expect(StatusCode.DeadlineExceeded);
        }
        else
        {
            var value = malformed[r.Next(malformed.Length)];
            d.Set("grpc-timeout", value);
            d.Note($"grpc-timeout '{value}' (malformed)");
            d.Expect(StatusCode.InvalidArgument);
        }
    }

    private static void Http11(Draft d)
    {
        d.Version = System.Net.HttpVersion.Version11;
        d.Note("HTTP/1.1 to the h2c-only gRPC port");
        // The listener speaks only HTTP/2: Kestrel reads the request line as a broken preface and closes (or, at
        // best, answers 400/426/505). Never a gRPC answer.
        d.NeverGrpc = true;
        d.ExpectHttp(400, 426, 505);
        d.AllowTransportError();
    }

    private static void WrongContentType(Draft d)
    {
        var r = d.Random;
        string?[] wrong = [null, "application/json", "text/plain", "application/octet-stream", "application/grpc-web", "application/grpc-web-text", "application/grpcx", "multipart/form-data; boundary=zzfuzz", "application/protobuf", string.Empty];
        string[] grpcVariants = ["application/grpc+proto", "application/grpc; charset=utf-8", "APPLICATION/GRPC", "application/grpc+json"];
        if (r.Next(4) == 0)
        {
            var variant = grpcVariants[r.Next(grpcVariants.Length)];
            d.ContentType = variant;
            d.Note($"content-type {variant} (a gRPC variant)");
            // grpc-dotnet takes application/grpc with any subtype or parameters (it parses the body as protobuf).
            d.PassesThrough();
            return;
        }

        var contentType = wrong[r.Next(wrong.Length)];
        d.ContentType = contentType;
        d.Note($"content-type {contentType ?? "(none)"}");
        // grpc-dotnet answers 415 (with grpc-status 13 in the headers); never a gRPC call.
        d.ExpectHttp(415);
        d.NotGrpcContent = true;
    }

    private static void GetRequest(Draft d)
    {
        var r = d.Random;
        HttpMethod[] methods = [HttpMethod.Get, HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Head, HttpMethod.Patch];
        d.HttpMethod = methods[r.Next(methods.Length)];
        if (d.HttpMethod == HttpMethod.Get || d.HttpMethod == HttpMethod.Head)
        {
            d.Body([], "no body");
        }

        if (r.Next(2) == 0)
        {
            d.ContentType = null;
            d.NotGrpcContent = true;
        }

        d.Note($"{d.HttpMethod} on a gRPC method");
        // Routing maps gRPC methods to POST only: 405 (or 404), 415 when the content type is not gRPC.
        d.ExpectHttp(404, 405, 415);
        d.Expect(StatusCode.Unimplemented, StatusCode.Internal);
        d.DropsPassThrough = true;
    }

    private static void UnknownPath(Draft d)
    {
        var r = d.Random;
        var real = d.Method.Path;
        var service = real[..real.LastIndexOf('/')];
        var n = r.Next(100_000);
        string[] paths =
        [
            $"/{Marker}{n}.Svc/Method",
            $"{service}/{Marker}{n}",
            $"{service}/{Marker}{n}/x",
            service,
            service + "/",
            "/",
            $"/{Marker}{n}",
            $"//{Marker}{n}",
            $"/a/b/{Marker}{n}",
            $"{real}?{Marker}={n}",
            $"{real}/{Marker}{n}",
            $"/grpc.health.v1.Health/{Marker}{n}",
            $"/grpc.reflection.v1alpha.ServerReflection/{Marker}{n}",
            $"/{Marker}{n}.{new string('a', r.Next(500, 6000))}/M",
            $"/meshbulkheads.{Marker}{n}.v1.PaymentsService/Charge",
            "/metrics",
            "/healthz",
            $"{real}%2F{Marker}{n}",
            $"{real}%00",
        ];
        d.Path = paths[r.Next(paths.Length)];
        if (d.Path.EndsWith("%00", StringComparison.Ordinal))
        {
            // A NUL in :path makes the request malformed (RFC 9113 8.3.1): Kestrel resets the stream (PROTOCOL_ERROR).
            d.AllowTransportError();
        }

        if (d.Path.Contains(Marker, StringComparison.Ordinal))
        {
            // The caller-chosen part; the fixed spellings (/, /metrics, the bare service) may be legitimate labels.
            d.Fuzzed(d.Path);
        }

        d.Note("not a method");
        // A gRPC request for no method is UNIMPLEMENTED (grpc-dotnet's fallback, the gateway's method resolution);
        // a path no endpoint matches is a plain 404 (the gRPC spec maps it to UNIMPLEMENTED), admin endpoints 404 here.
        d.Expect(StatusCode.Unimplemented);
        d.ExpectHttp(404, 405);
        d.DropsPassThrough = true;
    }

    private static void CaseVariantPath(Draft d)
    {
        var r = d.Random;
        var real = d.Method.Path;
        var chars = real.ToCharArray();
        do
        {
            var i = r.Next(1, chars.Length);
            chars[i] = char.IsUpper(chars[i]) ? char.ToLowerInvariant(chars[i]) : char.ToUpperInvariant(chars[i]);
        }
        while (new string(chars) == real || r.Next(3) == 0);

        d.Path = new string(chars);
        d.FuzzedCaseSensitive(d.Path);
        d.Note("case variant of a method");
        // Method names are case-sensitive: UNIMPLEMENTED (ListenerGate in the services, method resolution in the gateway).
        d.Expect(StatusCode.Unimplemented);
        d.ExpectHttp(404);
        d.DropsPassThrough = true;
    }

    private static void ForgedIdentity(Draft d)
    {
        var r = d.Random;
        var token = r.Next(8) switch
        {
            0 => "v1.k.abc.def",
            1 => $"v1.{Marker}.{Ascii(r, 4, 40)}.{Ascii(r, 4, 40)}",
            2 => "v1." + Convert.ToBase64String(Bytes(r, 100, 3000)),
            3 => $"{Marker}" + Ascii(r, 0, 64),
            4 => "v1...",
            5 => $"v2.k.{Marker}.sig",
            6 => new string('v', r.Next(4000, 12000)),
            _ => $"v1.k.{Marker}{r.Next()}.{Convert.ToHexString(Bytes(r, 32, 33))}",
        };
        d.Set("x-mesh-identity", token);
        if (token.Length >= 8)
        {
            d.Fuzzed(token);
        }

        d.Note($"forged x-mesh-identity ({token.Length} chars)");
        if (!d.Target.IsGateway)
        {
            // A service that checks gateway-signed identities refuses a forged one.
            d.Expect(StatusCode.Unauthenticated);
        }

        // The gateway strips any client-sent x-mesh-* (and signs its own): the call goes on as if the header were absent.
        d.PassesThrough();
    }

    private static void BogusCredentials(Draft d)
    {
        var r = d.Random;
        if (d.Target.IsGateway)
        {
            var key = r.Next(8) switch
            {
                0 => null,
                1 => string.Empty,
                2 => $"{Marker}-key-{r.Next()}",
                3 => $"{Marker}" + new string('k', r.Next(251, 4000)),
                4 => DemoKey(r).ToUpperInvariant(),
                5 => DemoKey(r) + Marker,
                6 => DemoKey(r)[..^1],
                _ => $"{Marker}{Ascii(r, 1, 64)}",
            };
            d.Remove("x-api-key");
            if (key is not null)
            {
                d.Set("x-api-key", key);
                d.Fuzzed(key);
            }

            d.Note($"x-api-key {(key is null ? "(none)" : $"bogus ({key.Length} chars)")}");
            // Unknown key: UNAUTHENTICATED; past the unauthenticated rate limit: RESOURCE_EXHAUSTED.
            d.Expect(StatusCode.Unauthenticated, StatusCode.ResourceExhausted);
            return;
        }

        var tenant = r.Next(6) switch
        {
            0 => null,
            1 => string.Empty,
            2 => Marker.ToUpperInvariant(),
            3 => $"-{Marker}",
            4 => $"{Marker}{new string('a', r.Next(60, 300))}",
            _ => $"{Marker}.{r.Next()}",
        };
        d.Remove("x-tenant-id");
        if (tenant is not null)
        {
            d.Set("x-tenant-id", tenant);
            d.Fuzzed(tenant);
        }

        d.Set("x-api-key", $"{Marker}-key-{r.Next()}");
        d.Note($"x-tenant-id {(tenant is null ? "(none)" : $"'{tenant}'")}");
        // Missing: UNAUTHENTICATED; not a tenant id: INVALID_ARGUMENT (TenantMetadata). A direct caller's x-api-key is ignored.
        d.Expect(StatusCode.Unauthenticated, StatusCode.InvalidArgument);
        if (!d.Target.RequiresTenant)
        {
            // Render takes any x-tenant-id as its work-budget key, a missing one sharing one bucket (TenantWorkBudget).
            d.PassesThrough();
        }
    }

    /// <summary>The gRPC length-prefixed frame: flag, 4-byte big-endian length (the real one unless <paramref name="claimed"/>), message.</summary>
    public static byte[] Frame(byte flag, byte[] message, uint? claimed = null)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), claimed ?? (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] Bytes(Random r, int min, int max)
    {
        var bytes = new byte[r.Next(min, max)];
        r.NextBytes(bytes);
        return bytes;
    }

    private static string Ascii(Random r, int min, int max)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:@/?";
        var length = r.Next(min, max);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet[r.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }

    private static string DemoKey(Random r) => r.Next(3) switch
    {
        0 => DemoTenants.AcmeKey,
        1 => DemoTenants.GlobexKey,
        _ => DemoTenants.InitechKey,
    };

    private static string DemoTenant(Random r) => r.Next(3) switch
    {
        0 => DemoTenants.Acme,
        1 => DemoTenants.Globex,
        _ => DemoTenants.Initech,
    };

    /// <summary>A case under construction: a valid call that the parts then spoil, each adding its outcomes.</summary>
    private sealed class Draft
    {
        private readonly List<KeyValuePair<string, string>> _headers = [];
        private readonly List<string> _notes = [];
        private readonly HostileExpectation _expected = new();
        private readonly List<string> _fuzzed = [];
        private byte[]? _body;
        private byte[]? _parsedMessage;
        private bool _partPasses;
        private int _partExpectations;
        private bool _certainRefusal;

        public Draft(HostileTarget target, HostileMethod method, Random random)
        {
            Target = target;
            Method = method;
            Random = random;
            Path = method.Path;
            _headers.Add(new("te", "trailers"));
            if (target.IsGateway)
            {
                _headers.Add(new(MeshMetadata.ApiKey, DemoKey(random)));
            }
            else
            {
                _headers.Add(new(MeshMetadata.TenantId, DemoTenant(random)));
            }

            // A deadline on every call by default, so a parsed random request cannot run long.
            if (random.Next(4) != 0)
            {
                _headers.Add(new(MeshMetadata.GrpcTimeout, "4S"));
            }
        }

        public HostileTarget Target { get; }

        public HostileMethod Method { get; }

        public Random Random { get; }

        public string Path { get; set; }

        public HttpMethod HttpMethod { get; set; } = HttpMethod.Post;

        public Version Version { get; set; } = System.Net.HttpVersion.Version20;

        public string? ContentType { get; set; } = "application/grpc";

        /// <summary>The request never becomes a gRPC call (HTTP/1.1).</summary>
        public bool NeverGrpc { get; set; }

        /// <summary>The request is not gRPC by content type: the gateway answers its own refusals as plain HTTP.</summary>
        public bool NotGrpcContent { get; set; }

        /// <summary>The request reaches no handler whatever else it carries (no method, wrong HTTP method).</summary>
        public bool DropsPassThrough { get; set; }

        public void Note(string note) => _notes.Add(note);

        public void Fuzzed(string value)
        {
            // Short values (an empty key, "v1...") would match any series; the marker check covers those.
            if (value.Length >= 8)
            {
                _fuzzed.Add(value);
            }
        }

        public void FuzzedCaseSensitive(string value) => _fuzzed.Add("=" + value);

        public void Expect(params StatusCode[] codes) => _expected.Grpc.UnionWith(codes);

        public void ExpectHttp(params int[] statuses) => _expected.Http.UnionWith(statuses);

        public void AllowTransportError() => _expected.TransportErrorAllowed = true;

        /// <summary>The call may go on to the handler as far as this part is concerned.</summary>
        public void PassesThrough() => _partPasses = true;

        public void BeginPart()
        {
            _partPasses = false;
            _partExpectations = _expected.Grpc.Count + _expected.Http.Count;
        }

        /// <summary>A part that expected an outcome and did not say the call may go on refuses the call for certain.</summary>
        public void EndPart() =>
            _certainRefusal |= !_partPasses && (_expected.Grpc.Count + _expected.Http.Count > _partExpectations || DropsPassThrough || NeverGrpc);

        /// <summary>The answer to a request message that does not parse (ServiceDefaults MeshRequestDecoding; see the tests' remarks).</summary>
        public void ExpectParseError() => Expect(StatusCode.Internal);

        public void Body(byte[] body, string note)
        {
            _body = body;
            _parsedMessage = null;
            Note(note);
        }

        /// <summary>A well-framed message: if it parses, the handler runs; if not, the parse error is expected.</summary>
        public void Message(byte[] message, string note)
        {
            _body = Frame(0, message);
            Note(note);
            if (Method.Parses(message))
            {
                _parsedMessage = message;
                PassesThrough();
            }
            else
            {
                ExpectParseError();
            }
        }

        public void Set(string name, string value)
        {
            Remove(name);
            _headers.Add(new(name, value));
        }

        public void Add(string name, string value) => _headers.Add(new(name, value));

        public void Remove(string name) => _headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

        public HostileCase Build(int index, HostileCaseKind kind, IReadOnlyList<HostileCaseKind> parts)
        {
            var body = _body ?? Frame(0, Method.Valid(Random));
            var message = _body is null ? body[5..] : _parsedMessage;
            if (message is not null && !Method.IsCheap(message))
            {
                // A parsed random render could ask for 2048² pixels × 5000 iterations: served cheaply instead.
                body = Frame(0, Method.Valid(Random));
                Note("(expensive parsed request replaced by a valid one)");
            }

            var expected = new HostileExpectation();
            if (NeverGrpc)
            {
                expected.UnionWith(_expected);
                expected.Grpc.Clear();
            }
            else
            {
                expected.UnionWith(_expected);
                if (!_certainRefusal)
                {
                    // The handler ran: a valid request succeeds; a parsed random one may fail its validation or lookup.
                    expected.Grpc.Add(StatusCode.OK);
                    if (_parsedMessage is not null)
                    {
                        expected.Grpc.UnionWith(HandlerOutcomes);
                    }
                }

                if (!Target.IsGateway)
                {
                    // The services are about to require a gateway-signed identity before anything else.
                    expected.Grpc.UnionWith(Identity);
                }

                if (Target.IsGateway && NotGrpcContent)
                {
                    // The gateway answers a request that is not gRPC by content type as plain HTTP (MeshRejection.HttpStatusCode).
                    foreach (var code in expected.Grpc)
                    {
                        expected.Http.Add(code switch
                        {
                            StatusCode.DeadlineExceeded => 504,
                            StatusCode.ResourceExhausted => 429,
                            StatusCode.InvalidArgument => 400,
                            StatusCode.Unauthenticated => 401,
                            StatusCode.Unimplemented => 404,
                            _ => 503,
                        });
                    }

                    expected.Http.Add(413);
                }
            }

            var headers = new List<KeyValuePair<string, string>>(_headers);
            return new HostileCase
            {
                Index = index,
                Kind = kind,
                Parts = parts,
                Description = string.Join("; ", _notes),
                Path = Path,
                HttpMethod = HttpMethod,
                Version = Version,
                ContentType = ContentType,
                Headers = headers,
                Body = HttpMethod == HttpMethod.Get || HttpMethod == HttpMethod.Head ? [] : body,
                Expected = expected,
                FuzzedValues = _fuzzed,
            };
        }

        /// <summary>What a handler answers a request that parsed but may be nonsense (validation, lookups, admission).</summary>
        private static readonly StatusCode[] HandlerOutcomes =
        [
            StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.FailedPrecondition, StatusCode.OutOfRange,
            StatusCode.AlreadyExists, StatusCode.ResourceExhausted, StatusCode.Unavailable, StatusCode.DeadlineExceeded,
        ];
    }
}
