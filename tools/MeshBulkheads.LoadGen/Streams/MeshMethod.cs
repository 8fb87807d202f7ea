namespace MeshBulkheads.LoadGen.Streams;

/// <summary>The mesh's unary methods that meshload can drive through the gateway.</summary>
internal enum MeshMethod
{
    GetBalance,
    Charge,
    ListPayments,
    BuildReport,
    Render,
}

internal static class MeshMethods
{
    public static MeshMethod Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "getbalance" or "payments.getbalance" or "balance" => MeshMethod.GetBalance,
        "charge" or "payments.charge" => MeshMethod.Charge,
        "listpayments" or "payments.listpayments" => MeshMethod.ListPayments,
        "buildreport" or "reporting.buildreport" or "report" => MeshMethod.BuildReport,
        "render" or "render.render" => MeshMethod.Render,
        _ => throw new BadInputException($"unknown method '{text}' (known: GetBalance, Charge, ListPayments, BuildReport, Render)"),
    };

    /// <summary>The gRPC path, as the gateway's routes and the services' bulkheads see it.</summary>
    public static string Path(MeshMethod method) => method switch
    {
        MeshMethod.GetBalance => "/meshbulkheads.payments.v1.PaymentsService/GetBalance",
        MeshMethod.Charge => "/meshbulkheads.payments.v1.PaymentsService/Charge",
        MeshMethod.ListPayments => "/meshbulkheads.payments.v1.PaymentsService/ListPayments",
        MeshMethod.BuildReport => "/meshbulkheads.reporting.v1.ReportingService/BuildReport",
        MeshMethod.Render => "/meshbulkheads.render.v1.RenderService/Render",
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };
}
