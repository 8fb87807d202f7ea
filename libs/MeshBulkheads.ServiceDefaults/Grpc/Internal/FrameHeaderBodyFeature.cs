using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace MeshBulkheads.ServiceDefaults.Grpc.Internal;

/// <summary>The request body as grpc-dotnet reads it (<c>HttpRequest.BodyReader</c>), through <see cref="FrameHeaderCheckingReader"/>.</summary>
internal sealed class FrameHeaderBodyFeature(PipeReader reader) : IRequestBodyPipeFeature
{
    public PipeReader Reader => reader;
}
