// Types of the TypeDoc plugin typedoc-math.mjs (for the tests that import it).
import type { Application } from 'typedoc';
export declare function unescapeMath(markdown: string): string;
export declare function load(app: Application): void;
