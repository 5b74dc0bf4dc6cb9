import Foundation
import Testing
@testable import SeekTemplates

/// Behaviours checked against Python's jinja2 by hand (expected strings are what
/// `jinja2.Environment(trim_blocks=True, lstrip_blocks=True)` prints).
@Suite struct TemplateEngineTests {
    private func render(_ t: String, _ vars: [String: Value] = [:]) throws -> String {
        try Template(t).render(vars)
    }

    @Test func whitespaceControlFollowsJinja2() throws {
        #expect(try render("a\n  {% if true %}\n  b\n  {% endif %}\nc") == "a\n  b\nc")
        #expect(try render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc")
        #expect(try render("{{ 1 }}\n{{ 2 }}\n") == "1\n2")
        #expect(try render("x {{- ' y ' -}} z") == "x y z")
        #expect(try render("  {%+ if true %}b{% endif %}") == "  b")
        #expect(try render("{# c #}\nx") == "x")
    }

    @Test func loopsScopesAndNamespaces() throws {
        let t = "{% set ns = namespace(n=0) %}{% set x = 1 %}{% for i in [1,2,3] if i != 2 %}{% set x = 5 %}{% set ns.n = ns.n + i %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %} {{ x }} {{ ns.n }}"
        #expect(try render(t) == "1/2,2/2 1 4")
        #expect(try render("{% for a, b in d.items() %}{{ a }}={{ b }};{% else %}none{% endfor %}", ["d": try .json("{\"z\":1,\"a\":[1,2]}")]) == "z=1;a=[1, 2];")
        #expect(try render("{% for x in [] %}x{% else %}empty{% endfor %}") == "empty")
        #expect(try render("{% for x in range(5) %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}") == "02")
    }

    @Test func expressionsFiltersAndTests() throws {
        let m = try Value.json(#"{"role":"user","content":"  Hi there  ","n":3,"f":1.0,"tools":[{"name":"a"},{"name":"b","x":true}]}"#)
        #expect(try render("{{ m.content | trim | upper }}", ["m": m]) == "HI THERE")
        #expect(try render("{{ m['role'] ~ '!' }} {{ m.missing is defined }} {{ m.n is number }} {{ m.f }}", ["m": m]) == "user! False True 1.0")
        #expect(try render("{{ m.tools | map(attribute='name') | join(', ') }}", ["m": m]) == "a, b")
        #expect(try render("{{ m.tools | selectattr('x') | list | length }}", ["m": m]) == "1")
        #expect(try render("{{ m.tools[0] | tojson }}|{{ m.tools | tojson(indent=2) }}", ["m": m])
                == "{\"name\": \"a\"}|[\n  {\n    \"name\": \"a\"\n  },\n  {\n    \"name\": \"b\",\n    \"x\": true\n  }\n]")
        #expect(try render("{{ 'abc'[::-1] }} {{ 'a,b'.split(',') }} {{ 7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}") == "cba ['a', 'b'] 3 3.5 2 1024")
        #expect(try render("{{ 'x' if false }}|{{ none }}|{{ undefinedname }}|{{ [1, 'a', none, true] }}") == "|None||[1, 'a', None, True]")
        #expect(try render("{{ '<think>' in 'a<think>b' }} {{ 'q' not in ['a'] }} {{ 'abc'.startswith(('x', 'a')) }}") == "True True True")
        #expect(try render("{{ '{}-{name}'.format(1, name='z') }}") == "1-z")
    }

    @Test func macrosAndSetBlocks() throws {
        let t = "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', punct='?') }}{% set s %}in{{ 1 }}{% endset %} {{ s }}"
        #expect(try render(t) == "Hi a! Hi b? in1")
    }

    @Test func errorsNameLineAndColumn() throws {
        #expect(throws: TemplateError.syntax("expected an expression, found '%}'", line: 2, column: 7)) { try Template("x\n{% if %}") }
        do { _ = try Template("{% for x in y %}\n{{ x }"); Issue.record("parsed") } catch let e as TemplateError {
            #expect("\(e)".contains("line 2"))
        }
        #expect(throws: TemplateError.raised("bad role")) { try render("{{ raise_exception('bad role') }}") }
        do { _ = try Template("{% include 'x' %}"); Issue.record("parsed") } catch let e as TemplateError {
            #expect("\(e)".contains("not supported"))
        }
        do { _ = try render("{{ 1 | nosuchfilter }}"); Issue.record("rendered") } catch let e as TemplateError {
            #expect("\(e)".contains("nosuchfilter"))
        }
        #expect(throws: TemplateError.self) { try render("{{ a.b }}") }
    }
}
