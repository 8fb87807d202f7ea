using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>What one hostile request ended in.</summary>
public sealed record HostileOutcome(int? HttpStatus, StatusCode? Grpc, string? GrpcMessage, bool GrpcInTrailers, Exception? TransportError, bool TimedOut, TimeSpan Elapsed, string SentPath)
{
    public override string ToString()
    {
        if (TimedOut)
        {
            return $"no answer within {Elapsed.TotalSeconds:0.#} s (hang)";
        }

        if (TransportError is { } error)
        {
            return $"transport error {error.GetType().Name}: {Flatten(error)}";
        }

        var grpc = Grpc is { } code ? $" grpc-status {(int)code} {code} in {(GrpcInTrailers ? "trailers" : "headers")} '{GrpcMessage}'" : " no grpc-status";
        return $"HTTP {HttpStatus}{grpc}";
    }

    /// <summary>A short label for the outcome histogram.</summary>
    public string Label => TimedOut ? "hang" : TransportError is not null ? "transport" : Grpc is { } code && HttpStatus == 200 ? code.ToString() : Grpc is { } c ? $"http{HttpStatus}+{c}" : $"http{HttpStatus}";

    private static string Flatten(Exception error)
    {
        var parts = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            parts.Add(e.Message);
        }

        return string.Join(" -> ", parts);
    }
}

/// <summary>
/// Sends <see cref="HostileCase"/>s over raw HTTP with <see cref="SocketsHttpHandler"/> (h2c with prior knowledge,
/// <see cref="HttpVersionPolicy.RequestVersionExact"/>, or HTTP/1.1), byte for byte, each bounded by a timeout.
/// A header name that repeats goes once in the request headers and once in the content headers, which
/// SocketsHttpHandler writes as two separate HTTP/2 header fields (repeats within one collection would be joined
/// into one comma-separated field); a known header that HttpContentHeaders refuses (te) is joined instead.
/// </summary>
public sealed class HostileCaseRunner(Uri baseAddress, TimeSpan caseTimeout) : IDisposable
{
    private readonly HttpClient _shared = CreateClient();
    private readonly string _base = baseAddress.GetLeftPart(UriPartial.Authority);

    public async Task<HostileOutcome> RunAsync(HostileCase hostile, CancellationToken cancellationToken)
    {
        // Cases that may end their connection (HTTP/1.1 on an h2c port, header floods) get one of their own, so a
        // GOAWAY they earn cannot fail a well-formed neighbour on the shared connection.
        using var own = hostile.NeedsOwnConnection ? CreateClient() : null;
        var client = own ?? _shared;
        using var request = BuildRequest(hostile);
        var sentPath = request.RequestUri!.PathAndQuery;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(caseTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            // Read to the end: the trailers (and a reset in the middle of the body) come after the messages.
            await response.Content.CopyToAsync(Stream.Null, timeout.Token);
            var (code, message, inTrailers) = GrpcStatusOf(response);
            return new HostileOutcome((int)response.StatusCode, code, message, inTrailers, null, false, Stopwatch.GetElapsedTime(started), sentPath);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new HostileOutcome(null, null, null, false, null, true, Stopwatch.GetElapsedTime(started), sentPath);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new HostileOutcome(null, null, null, false, e, false, Stopwatch.GetElapsedTime(started), sentPath);
        }
    }

    public void Dispose() => _shared.Dispose();

    private HttpRequestMessage BuildRequest(HostileCase hostile)
    {
        var request = new HttpRequestMessage(hostile.HttpMethod, new Uri(_base + hostile.Path))
        {
            Version = hostile.Version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (hostile.Body.Length > 0 || hostile.ContentType is not null)
        {
            request.Content = new ByteArrayContent(hostile.Body);
            if (hostile.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", hostile.ContentType);
            }
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in hostile.Headers)
        {
            if (seen.Add(name) || request.Content is null || !request.Content.Headers.TryAddWithoutValidation(name, value))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    private static (StatusCode? Code, string? Message, bool InTrailers) GrpcStatusOf(HttpResponseMessage response)
    {
        if (Read(response.Headers) is { } headers)
        {
            return (headers.Code, headers.Message, false);
        }

        return Read(response.TrailingHeaders) is { } trailers ? (trailers.Code, trailers.Message, true) : (null, null, false);

        static (StatusCode Code, string? Message)? Read(HttpHeaders headers)
        {
            if (!headers.TryGetValues("grpc-status", out var values))
            {
                return null;
            }

            var text = string.Join(",", values);
            var message = headers.TryGetValues("grpc-message", out var messages) ? Uri.UnescapeDataString(string.Join(",", messages)) : null;
            // An unparsable grpc-status is itself a finding: reported as -1 (no such code), which no case accepts.
            return (int.TryParse(text, CultureInfo.InvariantCulture, out var code) ? (StatusCode)code : (StatusCode)(-1), message);
        }
    }

    private static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        UseProxy = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        // Each request body is sent whole before the answer is read: no 100-continue round trip.
        Expect100ContinueTimeout = TimeSpan.Zero,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
