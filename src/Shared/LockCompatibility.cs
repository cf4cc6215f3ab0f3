// System.Threading.Lock arrived in .NET 9. The code only ever writes lock (_gate) { ... } on a
// private "new Lock()", which compiles to Monitor on a plain object just as well; on .NET 8 the
// name means object. Linked into every project that targets net8.0.
#if !NET9_0_OR_GREATER
global using Lock = System.Object;
#endif
