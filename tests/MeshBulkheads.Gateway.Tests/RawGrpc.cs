using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace MeshBulkheads.Gateway.Tests;

/// <summary>Unary gRPC calls as raw HTTP/2 requests, for paths and bodies a generated client never sends.</summary>
public static class RawGrpc
{
    private static readonly HttpClient Http = new();

    /// <summary>The status a Trailers-Only or normal response carries, its message and reject reason.</summary>
    public sealed record Outcome(StatusCode Status, string Message, string? Reason);

    /// <summary>One length-prefixed, uncompressed gRPC frame holding <paramref name="message"/>.</summary>
    public static byte[] Frame(IMessage message)
    {
        var body = message.ToByteArray();
        var frame = new byte[5 + body.Length];
        frame[1] = (byte)(body.Length >> 24);
        frame[2] = (byte)(body.Length >> 16);
        frame[3] = (byte)(body.Length >> 8);
        frame[4] = (byte)body.Length;
        body.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Posts <paramref name="message"/> to <paramref name="path"/> and reads the gRPC outcome.</summary>
    public static async Task<Outcome> CallAsync(Uri gateway, string path, IMessage message, string? apiKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Frame(message)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation(MeshMetadata.ApiKey, apiKey);
        }

        using var response = await Http.SendAsync(request, cancellationToken).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync(cancellationToken).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Trailers-Only puts the status in the headers; a normal response in the trailers.
        var source = response.Headers.Contains("grpc-status") ? (HttpHeaders)response.Headers : response.TrailingHeaders;
        var status = (StatusCode)int.Parse(source.GetValues("grpc-status").Single(), CultureInfo.InvariantCulture);
        var text = source.TryGetValues("grpc-message", out var messages) ? Uri.UnescapeDataString(messages.Single()) : string.Empty;
        var reason = source.TryGetValues(MeshMetadata.RejectReason, out var reasons) ? reasons.Single() : null;
        return new Outcome(status, text, reason);
    }
}
