// The console's editors of app.py and aerogrid.yaml: CodeMirror 6 with Python or YAML
// highlighting, and the validator's problems (POST /v1/validate) and a try's load failure shown in
// place as lint diagnostics, each at its line and column with the message and fix. Only what an
// editor of one small file needs is loaded, to keep the chunk small: no autocompletion, no search
// panel. This module is its own chunk (web/build.mjs), imported only when a developer opens New app
// or Edit: a viewer's page never loads CodeMirror.
// The editor lives in a shadow root: CodeMirror then brings its styles as a constructed style sheet
// of that root, which the page's Content-Security-Policy (style-src 'self', no inline <style>)
// allows, where on the document itself it would add a <style> element the policy refuses.
import { python } from '@codemirror/lang-python';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorView, minimalSetup } from 'codemirror';
import type { ConsoleProblem } from '@aerogrid/protocol/console-api';
import { lineNumbers, highlightActiveLine, highlightActiveLineGutter, keymap } from '@codemirror/view';
import { indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';

/** A problem as the validator reports it (the contract's, plus where it ends when it says so). */
export type Problem = ConsoleProblem & { endLine?: number; endColumn?: number; code?: string };

export class CodeEditor {
  readonly view: EditorView;

  /** `file`: which of the connector's files it edits (its language, and its name to screen readers). */
  constructor(host: HTMLElement, file: 'app.py' | 'aerogrid.yaml') {
    const root = host.attachShadow({ mode: 'open' });
    this.view = new EditorView({
      parent: root,
      root,
      extensions: [
        minimalSetup,
        lineNumbers(),
        highlightActiveLine(),
        highlightActiveLineGutter(),
        indentOnInput(),
        bracketMatching(),
        keymap.of([indentWithTab]),
        file === 'app.py' ? python() : yaml(),
        lintGutter(),
        EditorView.contentAttributes.of({ 'aria-label': file }),
        EditorView.theme({
          '&': { height: '420px', fontSize: '13px', backgroundColor: '#fff' },
          '&.cm-focused': { outline: 'none' },
          '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' },
          '.cm-tooltip-lint': { whiteSpace: 'pre-wrap', maxWidth: '520px' },
          // The lint marks' own look is data: SVG images, which the page's policy (no img-src)
          // refuses, leaving them unseen: a wavy underline and a text marker need no image.
          '.cm-lintRange-error, .cm-lintRange-warning': { backgroundImage: 'none', textDecorationLine: 'underline', textDecorationStyle: 'wavy', textDecorationSkipInk: 'none', textUnderlineOffset: '3px' },
          '.cm-lintRange-error': { textDecorationColor: '#e11' },
          '.cm-lintRange-warning': { textDecorationColor: '#c80' },
          '.cm-lint-marker': { content: 'none', width: 'auto', height: 'auto', lineHeight: '1', fontSize: '11px' },
          '.cm-lint-marker-error::before': { content: '"\u25cf"', color: '#e11' },
          '.cm-lint-marker-warning::before': { content: '"\u25b2"', color: '#c80' },
        }),
      ],
    });
  }

  get text(): string {
    return this.view.state.doc.toString();
  }

  set text(value: string) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: value } });
    this.view.dispatch(setDiagnostics(this.view.state, []));
  }

  /** Puts the cursor at a line and column (1-based), in view. */
  goTo(line: number, column: number): void {
    const doc = this.view.state.doc;
    const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
    this.view.dispatch({ selection: { anchor: Math.min(l.from + Math.max(column - 1, 0), l.to) }, scrollIntoView: true });
    this.view.focus();
  }

  /** Marks each problem at its line and column (1-based), replacing the previous marks. */
  mark(problems: Problem[]): void {
    const doc = this.view.state.doc;
    const at = (line: number, column: number): number => {
      const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
      return l.from + Math.min(Math.max(column - 1, 0), l.length);
    };
    const diagnostics: Diagnostic[] = problems.map((p) => {
      const from = at(p.line, p.column);
      let to = p.endLine ? at(p.endLine, p.endColumn ?? p.column) : from;
      // A point problem: the word it points at, or the rest of the line.
      if (to <= from) {
        const line = doc.lineAt(from);
        const word = /^[\w'".]+/.exec(doc.sliceString(from, line.to));
        to = word ? from + word[0].length : line.to;
      }
      return {
        from,
        to,
        severity: p.severity === 'warning' ? 'warning' : 'error',
        message: p.fix ? `${p.message}\nfix: ${p.fix}` : p.message,
        ...(p.code ? { source: p.code } : {}),
      };
    });
    this.view.dispatch(setDiagnostics(this.view.state, diagnostics));
  }
}
