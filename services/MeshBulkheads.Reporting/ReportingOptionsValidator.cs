namespace MeshBulkheads.Reporting;

/// <summary>Source-generated validator for <see cref="ReportingOptions"/>: the attributes and <see cref="ReportingOptions.Validate"/>.</summary>
[OptionsValidator]
public sealed partial class ReportingOptionsValidator : IValidateOptions<ReportingOptions>
{
}
