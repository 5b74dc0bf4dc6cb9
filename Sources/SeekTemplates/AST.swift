/// Template syntax tree. Expressions and statements carry their source position for errors.
indirect enum Expr: Sendable {
    case literal(Value)
    case name(String, Pos)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String, Pos)
    case subscript_(Expr, Expr, Pos)
    case slice(Expr, Expr?, Expr?, Expr?, Pos)
    case call(Expr, [Expr], [(String, Expr)], Pos)
    case filter(Expr, String, [Expr], [(String, Expr)], Pos)
    case test(Expr, String, [Expr], negated: Bool, Pos)
    case unary(String, Expr, Pos)
    case binary(String, Expr, Expr, Pos)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    case conditional(Expr, Expr, Expr?)
    case concat([Expr])
}

struct Pos: Sendable {
    let line: Int
    let column: Int
}

indirect enum Node: Sendable {
    case text(String)
    case output(Expr)
    case ifChain([(Expr, [Node])], else_: [Node]?)
    /// for targets in iterable [if filter]: body [else: otherwise]
    case forLoop(targets: [String], iterable: Expr, filter: Expr?, body: [Node], else_: [Node]?, recursive: Bool, Pos)
    /// `set a = …`, `set a, b = …`, `set ns.attr = …`
    case set(targets: [String], attribute: String?, value: Expr, Pos)
    case setBlock(String, body: [Node])
    case macro(name: String, params: [(String, Expr?)], body: [Node])
    case callBlock(Expr, body: [Node])
    case filterBlock(String, [Expr], body: [Node], Pos)
    case breakLoop
    case continueLoop
    /// `{% generation %}` (transformers' assistant-mask extension) renders its body.
    case block([Node])
}
