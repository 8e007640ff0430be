import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "docs/api/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-globals": ["error", { name: "Date", message: "time comes from the machine's scheduler" }],
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: "randomness comes from the machine's Rng" }],
    },
  },
  { files: ["**/*.mjs", "**/*.js"], languageOptions: { globals: globals.node } },
  {
    files: ["**/test/**", "bench/**", "examples/**"],
    rules: { "no-restricted-globals": "off", "no-restricted-properties": "off" },
  },
);
