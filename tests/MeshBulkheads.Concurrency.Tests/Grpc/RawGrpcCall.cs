using System.Buffers.Binary;
using System.Net;
using Google.Protobuf;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

/// <summary>A unary gRPC call over plain HttpClient (h2c), for paths and headers a grpc-dotnet client will not send.</summary>
public static class RawGrpcCall
{
    public sealed record Result(HttpStatusCode HttpStatus, string? GrpcStatus, string? RejectReason, string? Message);

    public static async Task<Result> SendAsync(HttpClient http, Uri address, string path, IMessage message, IReadOnlyDictionary<string, string>? headers = null)
    {
        var payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, path))
        {
            Content = new ByteArrayContent(frame),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        return new Result(response.StatusCode, Read(response, "grpc-status"), Read(response, "x-mesh-reject-reason"), Read(response, "grpc-message"));
    }

    private static string? Read(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single()
        : response.TrailingHeaders.TryGetValues(name, out var trailing) ? trailing.Single()
        : null;
}
